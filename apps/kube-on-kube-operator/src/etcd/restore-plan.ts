/**
 * Restoring a new Cluster's etcd from a snapshot (spec.etcd.restoreFrom),
 * before its StatefulSet exists: each member's volume is made as the
 * StatefulSet would make it, a one-shot pod runs `etcdutl snapshot restore`
 * into it with the member's name and peer URL, and the volume is marked
 * restored once the pod succeeded. The StatefulSet then mounts volumes that
 * hold data, so etcd ignores its bootstrap flags and starts from the
 * snapshot. Which volume is restored lives on the volume (an annotation), so
 * a restarted operator neither restores one twice nor forgets one. Pure.
 */
import type { V1OwnerReference, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { ImageDigests } from '@kok/api';
import { etcdImage, pinnedImage } from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import {
  ETCD_DATA_DIR,
  etcdClaimSpec,
  initialCluster,
  initialClusterToken,
  memberPeerURL,
} from '../components/etcd.ts';
import { CONTROL_PLANE_POD_SECURITY } from '../components/pod-template.ts';
import type { ClusterNames } from '../names.ts';
import { clusterLabels } from '../names.ts';

/** On a member's volume: the snapshot (`<claim>/<path>`) its data was restored from. */
export const ETCD_RESTORED_FROM_ANNOTATION = 'clusters.kok.dev/etcd-restored-from';
/** On a restore pod: the snapshot it restores, so a changed spec.etcd.restoreFrom starts over. */
export const ETCD_RESTORE_SOURCE_ANNOTATION = 'clusters.kok.dev/etcd-restore-source';

export const RESTORE_FAILED = 'EtcdRestoreFailed';
export const RESTORE_SOURCE_NOT_FOUND = 'EtcdRestoreSourceNotFound';
export const RESTORING = 'RestoringEtcd';

const SNAPSHOT_MOUNT = '/snapshot';

export type RestoreSource = NonNullable<ResolvedCluster['etcd']['restoreFrom']>;

/** One member's volume and restore pod, as read. */
export interface MemberRestoreState {
  claim: V1PersistentVolumeClaim | undefined;
  pod: V1Pod | undefined;
}

export type RestoreAction =
  | { kind: 'createClaim'; claim: V1PersistentVolumeClaim }
  | { kind: 'createPod'; pod: V1Pod }
  | { kind: 'markRestored'; claim: string; member: string; source: string }
  | { kind: 'deletePod'; name: string }
  | { kind: 'deleteClaim'; name: string };

export interface RestorePlan {
  actions: RestoreAction[];
  /** Every member's volume holds the snapshot: the StatefulSet may be made. */
  done: boolean;
  /** Members whose restore pod failed, with its last words. */
  failed: { member: string; pod: string; message: string }[];
  /** Members still being restored (volume or pod on its way), each with why its pod waits when it says. */
  restoring: string[];
  /** The snapshot's claim does not exist, and a member still needs a restore pod: none is made. */
  sourceMissing: boolean;
}

export function sourceKey(source: RestoreSource): string {
  return `${source.claimName}/${source.path}`;
}

export function restorePodName(names: ClusterNames, ordinal: number): string {
  return `${names.etcd}-restore-${ordinal}`;
}

/** The volume of member `ordinal`, as the StatefulSet's claim template would make it. */
export function memberClaim(
  cluster: ResolvedCluster,
  names: ClusterNames,
  ordinal: number,
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: names.etcdClaim(ordinal),
      namespace: names.namespace,
      labels: clusterLabels(names.cluster, 'etcd'),
    },
    spec: etcdClaimSpec(cluster),
  };
}

/** The one-shot pod that writes member `ordinal`'s data from the snapshot. */
export function restorePod(
  cluster: ResolvedCluster,
  names: ClusterNames,
  ordinal: number,
  source: RestoreSource,
  owner: V1OwnerReference,
  imageDigests?: ImageDigests,
): V1Pod {
  const member = `${names.etcd}-${ordinal}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: restorePodName(names, ordinal),
      namespace: names.namespace,
      labels: clusterLabels(names.cluster, 'etcd-restore'),
      annotations: { [ETCD_RESTORE_SOURCE_ANNOTATION]: sourceKey(source) },
      ownerReferences: [owner],
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // etcdutl writes the member's data as the image's user, into a volume it may not own yet.
      securityContext: { ...CONTROL_PLANE_POD_SECURITY },
      containers: [
        {
          name: 'restore',
          image: pinnedImage(etcdImage(cluster.etcd.version ?? ''), imageDigests),
          command: ['etcdutl'],
          args: [
            'snapshot',
            'restore',
            `${SNAPSHOT_MOUNT}/${source.path}`,
            `--name=${member}`,
            `--initial-cluster=${initialCluster(names, cluster.etcd.replicas)}`,
            `--initial-cluster-token=${initialClusterToken(names)}`,
            `--initial-advertise-peer-urls=${memberPeerURL(names, ordinal)}`,
            `--data-dir=${ETCD_DATA_DIR}`,
          ],
          // etcdutl says why it failed on stderr: its last lines become the pod's message.
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: [
            { name: 'data', mountPath: ETCD_DATA_DIR },
            { name: 'snapshot', mountPath: SNAPSHOT_MOUNT, readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: names.etcdClaim(ordinal) } },
        { name: 'snapshot', persistentVolumeClaim: { claimName: source.claimName, readOnly: true } },
      ],
    },
  };
}

function failureMessage(pod: V1Pod): string {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  const said = terminated?.message?.trim();
  if (said) return said;
  if (terminated)
    return `etcdutl exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`;
  return pod.status?.message ?? pod.status?.reason ?? 'the pod failed';
}

/** Why a restore pod that has not finished waits, when it says: not scheduled, or its container waiting. */
function whyWaiting(pod: V1Pod): string | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled)
    return `pod ${pod.metadata?.name} not scheduled: ${unscheduled.message ?? unscheduled.reason ?? ''}`;
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason && waiting.reason !== 'ContainerCreating')
    return `pod ${pod.metadata?.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  return undefined;
}

/** What to do next for each member, from what was read (`members[i]` is member i). */
export function planRestore(
  cluster: ResolvedCluster,
  names: ClusterNames,
  source: RestoreSource,
  members: readonly MemberRestoreState[],
  owner: V1OwnerReference,
  { sourceFound = true, imageDigests }: { sourceFound?: boolean; imageDigests?: ImageDigests } = {},
): RestorePlan {
  const plan: RestorePlan = { actions: [], done: true, failed: [], restoring: [], sourceMissing: false };
  const key = sourceKey(source);
  members.forEach(({ claim, pod }, ordinal) => {
    const member = `${names.etcd}-${ordinal}`;
    const claimName = names.etcdClaim(ordinal);
    const restored = claim?.metadata?.annotations?.[ETCD_RESTORED_FROM_ANNOTATION] !== undefined;
    if (restored && !claim?.metadata?.deletionTimestamp) {
      if (pod) plan.actions.push({ kind: 'deletePod', name: pod.metadata?.name ?? '' });
      return;
    }
    plan.done = false;
    const waiting = pod && whyWaiting(pod);
    plan.restoring.push(waiting ? `${member} (${waiting})` : member);
    // A volume on its way out is waited for: a new one is made once it is gone.
    if (claim?.metadata?.deletionTimestamp) return;
    if (!claim) plan.actions.push({ kind: 'createClaim', claim: memberClaim(cluster, names, ordinal) });
    if (!pod) {
      // A pod without its snapshot's claim would wait unschedulable and say less than the Cluster can.
      if (sourceFound)
        plan.actions.push({
          kind: 'createPod',
          pod: restorePod(cluster, names, ordinal, source, owner, imageDigests),
        });
      else plan.sourceMissing = true;
      return;
    }
    const podName = pod.metadata?.name ?? '';
    if (pod.metadata?.annotations?.[ETCD_RESTORE_SOURCE_ANNOTATION] !== key) {
      // Another snapshot was asked for: whatever that pod wrote is not wanted.
      plan.actions.push({ kind: 'deletePod', name: podName });
      if (claim) plan.actions.push({ kind: 'deleteClaim', name: claimName });
      return;
    }
    if (pod.metadata?.deletionTimestamp) return;
    if (pod.status?.phase === 'Succeeded' && claim)
      plan.actions.push({ kind: 'markRestored', claim: claimName, member, source: key });
    else if (pod.status?.phase === 'Failed')
      plan.failed.push({ member, pod: podName, message: failureMessage(pod) });
  });
  return plan;
}

export function restoringMessage(source: RestoreSource, plan: RestorePlan): string {
  return `restoring etcd from snapshot ${source.path} on claim ${source.claimName}: ${plan.restoring.join(', ')} not restored yet`;
}

export function restoreSourceNotFoundMessage(source: RestoreSource, namespace: string): string {
  return (
    `spec.etcd.restoreFrom names claim ${source.claimName}, which does not exist in namespace ${namespace}: ` +
    `create it, on a volume that holds ${source.path}, and the restore starts`
  );
}

export function restoreFailedMessage(source: RestoreSource, plan: RestorePlan): string {
  const failures = plan.failed.map((f) => `${f.member} (pod ${f.pod}): ${f.message}`).join('; ');
  return (
    `restoring etcd from snapshot ${source.path} on claim ${source.claimName} failed for ${failures}. ` +
    'Delete the pod to try again; a volume the failed restore wrote into must be deleted with it'
  );
}
