/**
 * etcd runs with --initial-cluster-state=new: a member that finds no data
 * bootstraps an empty cluster. Once a Cluster's etcd has held data (status.etcd
 * records when it first had quorum), an etcd StatefulSet that is gone with all
 * its volumes means the data is lost, and creating it again would start the
 * biz-cluster empty under the same name. That is left to a person. Pure.
 */
import { metaTime } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
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

/** status.etcd: initializedTime is set the first time etcd has quorum and never moves. */
export function nextEtcdStatus(
  previous: ClusterStatus | undefined,
  etcdAvailable: boolean,
  now: Date,
): ClusterStatus['etcd'] {
  if (previous?.etcd?.initializedTime) return previous.etcd;
  return etcdAvailable ? { ...previous?.etcd, initializedTime: metaTime(now) } : previous?.etcd;
}
