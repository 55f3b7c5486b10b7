// What the kube-on-kube-operator benchmarks share: the operator as a child process
// (benchmarks may not import apps), the Cluster CRDs, etcd volumes and a small Cluster.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes, resourceType } from '@kok/reconcile';
import { eventually, installCrds } from '@kok/testing';
import { chartNodeOptions } from './chart-node-options.ts';

const repo = new URL('../../', import.meta.url).pathname;
const operatorDir = `${repo}apps/kube-on-kube-operator`;

export interface ClusterObject extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    gates?: { name: string; durationMilliseconds?: number }[];
  };
}

export const clusterType = resourceType<ClusterObject>(
  'clusters.kok.dev/v1alpha1',
  'Cluster',
  'clusters',
  true,
);
const storageClassType = resourceType('storage.k8s.io/v1', 'StorageClass', 'storageclasses', false);
const persistentVolumeType = resourceType('v1', 'PersistentVolume', 'persistentvolumes', false);
const serviceAccountType = resourceType('v1', 'ServiceAccount', 'serviceaccounts', true);

export const isAvailable = (c: ClusterObject): boolean =>
  c.status?.phase === 'Ready' &&
  c.status.conditions?.some((x) => x.type === 'Available' && x.status === 'True') === true;

/** Installs the committed clusters.kok.dev CRDs and waits until they are Established. */
export const installClusterCrds = (client: KubeClient): Promise<void> =>
  installCrds(client, 'clusters.kok.dev');

/**
 * A namespace as Clusters find it in a real meta-cluster: with its `default` ServiceAccount, which
 * the controller-manager adds moments later and without which pod admission refuses every pod
 * (the StatefulSet and ReplicaSet controllers then back off, and the first Cluster pays for it).
 */
export async function createNamespace(client: KubeClient, name: string): Promise<string> {
  await client.create(builtinTypes.namespace, { metadata: { name } });
  await eventually(
    `the default ServiceAccount of ${name}`,
    () => client.get(serviceAccountType, { namespace: name, name: 'default' }).then(() => true),
    30_000,
  );
  return name;
}

/** A StorageClass with `count` pre-made volumes for etcd's claims (no provisioner here). */
export async function provisionVolumes(client: KubeClient, count: number): Promise<string> {
  const storageClass = `bench-${process.pid}`;
  await client.create(storageClassType, {
    metadata: { name: storageClass },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
  } as never);
  for (let i = 0; i < count; i++)
    await client.create(persistentVolumeType, {
      metadata: { name: `${storageClass}-${i}` },
      spec: {
        storageClassName: storageClass,
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: `/tmp/${storageClass}-${i}` },
      },
    } as never);
  return storageClass;
}

/** One replica of etcd, two apiservers, one controller-manager, one scheduler. */
export function smallCluster(namespace: string, name: string, storageClass: string): ClusterObject {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, namespace },
    spec: {
      version: 'v1.36.3',
      etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: storageClass } },
      controlPlane: {
        apiServer: { replicas: 2 },
        controllerManager: { replicas: 1 },
        scheduler: { replicas: 1 },
      },
    },
  };
}

/** `node src/main.ts` of the operator with the chart's NODE_OPTIONS; resolves once it logs that it runs. */
export async function startOperator(kubeconfigPath: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['src/main.ts', `--kubeconfig=${kubeconfigPath}`, ...args], {
    cwd: operatorDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: chartNodeOptions('kube-on-kube-operator') },
  });
  let running = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('"msg":"running"')) running = true;
  });
  await eventually('the operator to run', async () => running || child.exitCode !== null, 60_000);
  if (!running) throw new Error(`the operator exited with ${child.exitCode}`);
  return child;
}
