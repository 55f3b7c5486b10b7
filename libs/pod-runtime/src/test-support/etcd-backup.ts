// What a backup and a restore of a real-boot Cluster take, as a person would do them: the operator's etcd
// snapshot on request, the Cluster's identity Secrets as a backup keeps them, the Cluster deleted and gone,
// and the operator's snapshot directory shared with the Clusters' namespace through a claim.
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import type { EtcdSnapshotView, RealBoot } from './real-boot.ts';

const clusterType = (namespace: string) => ({
  group: 'clusters.kok.dev',
  version: 'v1alpha1',
  namespace,
  plural: 'clusters',
});

/** Sets the snapshot-request annotation to `value` and waits for status.etcd.lastSnapshot to answer it. */
export async function requestEtcdSnapshot(
  boot: RealBoot,
  namespace: string,
  cluster: string,
  value: string,
  pollMs = 500,
): Promise<EtcdSnapshotView> {
  await boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      ...clusterType(namespace),
      name: cluster,
      body: { metadata: { annotations: { 'clusters.kok.dev/etcd-snapshot-request': value } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return eventually(
    `the snapshot asked for by ${value}`,
    async () => {
      const last = (await boot.getCluster(cluster)).status?.etcd?.lastSnapshot;
      return last?.request === value ? last : undefined;
    },
    300_000,
    pollMs,
  );
}

/** The Cluster's identity Secrets as `kubectl kok cluster backup` keeps them: what can be created again. */
export async function identitySecrets(
  boot: RealBoot,
  namespace: string,
  cluster: string,
): Promise<V1Secret[]> {
  const { items } = await boot.core.listNamespacedSecret({
    namespace,
    labelSelector: `clusters.kok.dev/cluster=${cluster},app.kubernetes.io/managed-by=kube-on-kube-operator`,
  });
  return items
    .filter((secret) => secret.metadata?.name !== `${cluster}-etcd-join`)
    .map((secret) => ({
      metadata: {
        name: secret.metadata?.name ?? '',
        namespace,
        ...(secret.metadata?.labels ? { labels: secret.metadata.labels } : {}),
        ...(secret.metadata?.annotations ? { annotations: secret.metadata.annotations } : {}),
      },
      ...(secret.type ? { type: secret.type } : {}),
      ...(secret.data ? { data: secret.data } : {}),
    }));
}

/** Deletes the Cluster and waits until it, its pods and every claim of the namespace are gone. */
export async function deleteClusterAndWait(
  boot: RealBoot,
  namespace: string,
  cluster: string,
): Promise<void> {
  const clusters = boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
  await clusters.deleteNamespacedCustomObject({ ...clusterType(namespace), name: cluster });
  await eventually(
    `Cluster ${cluster}, its pods and its etcd volumes gone`,
    async () => {
      const left = await clusters
        .getNamespacedCustomObject({ ...clusterType(namespace), name: cluster })
        .then(
          () => true,
          () => false,
        );
      const { items: pods } = await boot.core.listNamespacedPod({
        namespace,
        labelSelector: `clusters.kok.dev/cluster=${cluster}`,
      });
      const { items: claims } = await boot.core.listNamespacedPersistentVolumeClaim({
        namespace,
        labelSelector: `clusters.kok.dev/cluster=${cluster}`,
      });
      return !left && pods.length === 0 && claims.length === 0;
    },
    120_000,
    250,
  );
}

/**
 * Claim `name` in `namespace`, bound to a hostPath volume of the operator's snapshot directory (the real-boot
 * operator's --etcd-snapshot-dir is <workDir>/snapshots): a restore pod finds the operator's files under it.
 */
export async function shareSnapshotDirectory(boot: RealBoot, namespace: string, name: string): Promise<void> {
  await boot.core.createPersistentVolume({
    body: {
      metadata: { name },
      spec: {
        storageClassName: '',
        capacity: { storage: '1Gi' },
        accessModes: ['ReadOnlyMany'],
        hostPath: { path: join(boot.workDir, 'snapshots') },
        claimRef: { namespace, name },
      },
    },
  });
  await boot.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        storageClassName: '',
        volumeName: name,
        accessModes: ['ReadOnlyMany'],
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
}
