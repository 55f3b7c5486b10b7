// Helpers for this app's integration tests; not used by the operator itself.
import type {} from '@kok/testing/global-setup';
import { CLUSTERS_GROUP } from '@kok/api';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes, resourceType } from '@kok/reconcile';
import type { ClusterObject } from './resource-types.ts';
import { eventually as pollUntil, installCrds } from '@kok/testing';

/** Polls `check` until it returns truthy; fails naming `what` and the last error after `timeoutMs` (default 30 s). */
export const eventually = <R>(
  what: string,
  check: () => R | Promise<R>,
  timeoutMs = 30_000,
): Promise<NonNullable<R>> => pollUntil(what, check as () => Promise<NonNullable<R>>, timeoutMs);

let counter = 0;

export async function freshNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await client.create(builtinTypes.namespace, { metadata: { name } });
  return name;
}

/** Installs the committed clusters.kok.dev CRDs and waits until they are Established. */
export const installClusterCrds = (client: KubeClient): Promise<void> => installCrds(client, CLUSTERS_GROUP);

const storageClassType = resourceType('storage.k8s.io/v1', 'StorageClass', 'storageclasses', false);
const persistentVolumeType = resourceType('v1', 'PersistentVolume', 'persistentvolumes', false);

/**
 * A StorageClass with `count` pre-made volumes for etcd's claims (the shared
 * control plane has no provisioner). Returns its name and a cleanup.
 */
export async function provisionVolumes(
  client: KubeClient,
  count: number,
): Promise<{ storageClass: string; remove: () => Promise<void> }> {
  const storageClass = `kok-test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await client.create(storageClassType, {
    metadata: { name: storageClass },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Retain',
  } as never);
  for (let i = 0; i < count; i++)
    await client.create(persistentVolumeType, {
      metadata: { name: `${storageClass}-${i}` },
      spec: {
        storageClassName: storageClass,
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/tmp/${storageClass}-${i}` },
      },
    } as never);
  return {
    storageClass,
    remove: async () => {
      for (let i = 0; i < count; i++)
        await client.delete(persistentVolumeType, { name: `${storageClass}-${i}` }).catch(() => undefined);
      await client.delete(storageClassType, { name: storageClass }).catch(() => undefined);
    },
  };
}

/** A small Cluster (one replica of everything) that comes up fast on kwok. */
export function smallCluster(
  namespace: string,
  name: string,
  storageClass: string,
  options: {
    version?: string;
    annotations?: Record<string, string>;
    /** Off where the shared apiserver stands in for many biz-clusters at once: their add-ons would collide. */
    addons?: false;
  } = {},
): ClusterObject {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, namespace, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      version: options.version ?? 'v1.36.3',
      etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: storageClass } },
      controlPlane: {
        apiServer: { replicas: 2 },
        controllerManager: { replicas: 1 },
        scheduler: { replicas: 1 },
      },
      ...(options.addons === false
        ? { addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } } }
        : {}),
    },
  };
}
