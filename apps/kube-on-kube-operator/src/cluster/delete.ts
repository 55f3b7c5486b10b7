/**
 * A deleted Cluster: held while deletion-protected, else its owned objects go
 * tier by tier (teardown.ts), then the etcd volumes, then the finalizer.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Annotations, ClusterConditions, Finalizers, metaTime, setCondition } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import type { Result } from '@kok/reconcile';
import { hasFinalizer, Indexes, removeFinalizer } from '@kok/reconcile';
import { clusterNames, clusterSelector } from '../names.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, persistentVolumeClaimType, typeOfKind } from '../resource-types.ts';
import type { ClusterWriter } from './apply.ts';
import { writeStatus } from './apply.ts';
import type { ClusterCaches } from './observe.ts';
import { isDeletionProtected, teardownStep } from './teardown.ts';

/** Teardown polls this fast: the next tier waits for the previous one to vanish. */
export const TEARDOWN_RECHECK_MS = 1_000;

const PROTECTED_MESSAGE = `deletion is held: the Cluster carries ${Annotations.deletionProtection}=true; nothing is torn down until the annotation is removed`;
const DELETING_MESSAGE = 'tearing down the control plane';

export async function deleteCluster(
  writer: ClusterWriter,
  caches: ClusterCaches,
  cluster: ClusterObject,
  at: Date,
): Promise<Result | void> {
  const { client, events, log } = writer;
  if (!hasFinalizer(cluster, Finalizers.cluster)) return;
  if (isDeletionProtected(cluster.metadata.annotations)) {
    if (deletionBlocked(cluster.status)?.status !== 'True') {
      log.warn(PROTECTED_MESSAGE);
      await events?.record(cluster, 'Warning', 'DeletionProtected', 'Delete', PROTECTED_MESSAGE);
    }
    await writeStatus(client, cluster, deletionProtectedStatus(cluster.status, at));
    // Removing the annotation is a change of the Cluster: it brings the next reconcile.
    return;
  }
  const uid = cluster.metadata.uid ?? '';
  const owned: KubernetesObject[] = [
    ...caches.deployments.byIndex(Indexes.ownerUid, uid),
    ...caches.statefulSets.byIndex(Indexes.ownerUid, uid),
    ...caches.services.byIndex(Indexes.ownerUid, uid),
    ...caches.secrets.byIndex(Indexes.ownerUid, uid),
  ];
  const step = teardownStep(owned);
  if (cluster.status?.phase !== 'Deleting') {
    await events?.record(cluster, 'Normal', 'Deleting', 'Delete', DELETING_MESSAGE);
    await writeStatus(client, cluster, deletingStatus(cluster.status, at));
  }
  if (!step.done) {
    for (const obj of step.delete) {
      // Foreground: the workload stays (deleting) until its pods are gone, so the next tier waits for
      // the pods, not only for the object. With the default (background) an apiserver stopping through its
      // shutdown delay found etcd already going, and hung in its drain until its grace period ran out.
      await client.delete(
        typeOfKind(obj.kind),
        { namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' },
        { propagationPolicy: 'Foreground' },
      );
      log.info({ kind: obj.kind, name: obj.metadata?.name }, 'deleted');
    }
    return { requeueAfter: TEARDOWN_RECHECK_MS };
  }
  // etcd's volumes belong to the StatefulSet's pods, not to the Cluster: delete them by label.
  const names = clusterNames(cluster.metadata.namespace ?? '', cluster.metadata.name ?? '');
  const claims = await client.list(persistentVolumeClaimType, {
    namespace: names.namespace,
    labelSelector: clusterSelector(names.cluster),
  });
  for (const claim of claims.items) {
    if (claim.metadata?.deletionTimestamp) continue;
    await client.delete(persistentVolumeClaimType, {
      namespace: names.namespace,
      name: claim.metadata?.name ?? '',
    });
  }
  await events?.record(
    cluster,
    'Normal',
    'Deleted',
    'Delete',
    'control plane, PKI and etcd volumes are gone',
  );
  await removeFinalizer(client, clusterType, cluster, Finalizers.cluster);
  log.info('control plane torn down; finalizer removed');
}

const deletionBlocked = (status: ClusterStatus | undefined) =>
  status?.conditions?.find((c) => c.type === ClusterConditions.DeletionBlocked);

/** DeletionBlocked while the deletion-protection annotation holds a deleted Cluster. Pure. */
export function deletionProtectedStatus(previous: ClusterStatus | undefined, at: Date): ClusterStatus {
  return {
    ...previous,
    conditions: setCondition(
      previous?.conditions,
      {
        type: ClusterConditions.DeletionBlocked,
        status: 'True',
        reason: 'DeletionProtected',
        message: PROTECTED_MESSAGE,
      },
      at,
    ),
  };
}

/** Phase Deleting, and DeletionBlocked lifted if it was set. Pure. */
export function deletingStatus(previous: ClusterStatus | undefined, at: Date): ClusterStatus {
  return {
    ...previous,
    ...(deletionBlocked(previous)
      ? {
          conditions: setCondition(
            previous?.conditions,
            {
              type: ClusterConditions.DeletionBlocked,
              status: 'False',
              reason: 'Deleting',
              message: 'deletion protection removed; tearing down',
            },
            at,
          ),
        }
      : {}),
    phase: 'Deleting',
    lastOperation: {
      type: 'Delete',
      state: 'Processing',
      startedAt: metaTime(at),
      message: DELETING_MESSAGE,
    },
  };
}
