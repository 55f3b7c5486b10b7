/**
 * Until etcd first had quorum, a member that finds no data bootstraps an
 * empty cluster (the join Secret says `new`, components/etcd.ts). Once a
 * Cluster's etcd has held data (status.etcd records when it first had
 * quorum), an etcd StatefulSet that is gone with all its volumes means the
 * data is lost: what to start in its place (a restore, or an empty etcd once
 * status.etcd is cleared) is left to a person. Pure.
 */
import { metaTime } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import type { EtcdObservation } from './etcd/member-observation.ts';
import type { LastSnapshot } from './etcd/snapshots.ts';
import type { ClusterNames } from './names.ts';

export const ETCD_DATA_LOST = 'EtcdDataLost';

/** Names of the volumes of etcd members 0…replicas-1: the StatefulSet's claim template `data`. */
export function etcdClaimNames(names: ClusterNames, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => names.etcdClaim(i));
}

export interface EtcdDataInputs {
  status: ClusterStatus | undefined;
  /** The etcd StatefulSet exists. */
  statefulSetExists: boolean;
  /** Member volumes that exist and are not being deleted. */
  claimsLeft: number;
}

/** Whether creating the etcd StatefulSet now would bootstrap an empty etcd in place of one that held data. */
export function isEtcdDataLost({ status, statefulSetExists, claimsLeft }: EtcdDataInputs): boolean {
  return status?.etcd?.initializedTime !== undefined && !statefulSetExists && claimsLeft === 0;
}

export function etcdDataLostMessage(names: ClusterNames, claimNames: readonly string[]): string {
  return (
    `etcd held this cluster's data (status.etcd.initializedTime), but StatefulSet ${names.etcd} and ` +
    `all its volumes (${claimNames.join(', ')}) are gone: an empty etcd is not started in their place. ` +
    'Restore the volumes from a backup, or clear status.etcd to start the cluster empty'
  );
}

/**
 * status.etcd: initializedTime is set the first time etcd has quorum and never moves; the members,
 * leader, DB size and alarms are this pass's read of etcd (etcd/member-observation.ts), absent without one;
 * lastSnapshot is this pass's snapshot, else the one before.
 */
export function nextEtcdStatus(
  previous: ClusterStatus | undefined,
  etcdAvailable: boolean,
  now: Date,
  observation?: EtcdObservation,
  snapshot?: LastSnapshot,
): ClusterStatus['etcd'] {
  const initializedTime = previous?.etcd?.initializedTime ?? (etcdAvailable ? metaTime(now) : undefined);
  const lastSnapshot = snapshot ?? previous?.etcd?.lastSnapshot;
  if (!initializedTime && !observation && !lastSnapshot) return undefined;
  return {
    ...(initializedTime ? { initializedTime } : {}),
    ...(lastSnapshot ? { lastSnapshot } : {}),
    ...(observation
      ? {
          members: observation.members.map(({ name, id, isLearner, healthy }) => ({
            name,
            id,
            isLearner,
            healthy,
          })),
          ...(observation.leader ? { leader: observation.leader } : {}),
          ...(observation.dbSizeBytes !== undefined ? { dbSizeBytes: observation.dbSizeBytes } : {}),
          ...(observation.alarms.length > 0 ? { alarms: observation.alarms } : {}),
        }
      : {}),
  };
}
