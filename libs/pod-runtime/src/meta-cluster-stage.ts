import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';

export interface MetaClusterStageOptions {
  /** The meta-cluster: its kubectl, admin kubeconfig and client. */
  controlPlane: Pick<ControlPlane, 'binDir' | 'kubeconfigPath' | 'kubeConfig'>;
  /** The directory of the generated CRD manifests; its `clusters.*` files are applied. */
  crdsDir: string;
  /** Created for the Clusters. */
  namespace: string;
  /** Host directory of the one volume etcd's claim binds to: where the runtime keeps that claim's data. */
  volumePath: string;
  /**
   * Makes the volume a `local` one on this Node (the kubelet gives it the pod's fsGroup, and the
   * scheduler places the claim's pod there) instead of a hostPath one. Default: hostPath.
   */
  volumeNode?: string;
}

/**
 * What a meta-cluster needs before the kube-on-kube-operator can boot a Cluster
 * on a LocalPodRuntime: the Cluster CRDs (Established), the Clusters'
 * namespace, and a `local` StorageClass with one volume for etcd's claim.
 * Resolves once the controller-manager has made that volume Available.
 */
export async function stageMetaCluster(options: MetaClusterStageOptions): Promise<void> {
  const { binDir, kubeconfigPath, kubeConfig } = options.controlPlane;
  const kubectl = (...args: string[]) =>
    execFileSync(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfigPath}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  for (const file of readdirSync(options.crdsDir).filter(
    (f) => f.startsWith('clusters.') && f.endsWith('.yaml'),
  ))
    kubectl('apply', '--server-side', '-f', join(options.crdsDir, file));
  // Polled rather than `kubectl wait`, which fails outright while the new CRD has no conditions yet.
  const crds = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await eventually(
    'the Cluster CRD to be Established',
    async () =>
      (
        await crds.readCustomResourceDefinition({ name: 'clusters.clusters.kok.dev' })
      ).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    60_000,
    250,
  );
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: options.namespace } } });
  await kubeConfig.makeApiClient(StorageV1Api).createStorageClass({
    body: {
      metadata: { name: 'local' },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'Immediate',
    },
  });
  await core.createPersistentVolume({
    body: {
      metadata: { name: 'local-0' },
      spec: {
        storageClassName: 'local',
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        ...(options.volumeNode
          ? {
              local: { path: options.volumePath },
              nodeAffinity: {
                required: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: 'kubernetes.io/hostname', operator: 'In', values: [options.volumeNode] },
                      ],
                    },
                  ],
                },
              },
            }
          : { hostPath: { path: options.volumePath } }),
      },
    },
  });
  // A just-started controller-manager may sync etcd's claim before it has marked this volume Available;
  // the claim then skips it and binds only at the binder's next resync, 15 s later.
  await eventually(
    'volume local-0 to be Available (the controller-manager has taken it)',
    async () => (await core.readPersistentVolume({ name: 'local-0' })).status?.phase === 'Available',
    120_000,
    250,
  );
}
