// End to end, a CA rotation for real: the kube-on-kube-operator boots a
// Cluster's control plane on the local pod runtime, then rotates every CA of it
// (spec.certificates.caRotationGeneration). Real etcd, kube-apiserver,
// controller-manager and scheduler restart through every phase; at the end the
// biz apiserver answers the new admin kubeconfig and refuses to be trusted by
// the old one.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { CoreV1Api, CustomObjectsApi, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '@kok/testing';
import { startControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPodRuntime } from './local-pod-runtime.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const namespace = 'biz';
const clusterName = 'rotate';

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** The tail of every container log the runtime wrote, for a failure message. */
function containerLogs(): string {
  const podsDir = join(workDir, 'runtime', 'pods');
  return readdirSync(podsDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.log'))
    .map(
      (file) => `--- ${file}\n${readFileSync(join(podsDir, file), 'utf8').split('\n').slice(-15).join('\n')}`,
    )
    .join('\n');
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

const podsOf = async (component: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `clusters.kok.dev/component=${component}` }))
    .items;

/** The Ready pod of `component`, other than `except`; fails with the runtime's and the containers' logs. */
const readyPod = (component: string, except?: string) =>
  eventually(`${component} Ready`, async () =>
    (await podsOf(component)).find(
      (pod) => isReady(pod) && pod.metadata?.name !== except && !pod.metadata?.deletionTimestamp,
    ),
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nruntime log:\n${logs.join('\n')}\n${containerLogs()}`);
  });

let controlPlane: ControlPlane;
let runtime: LocalPodRuntime;
let operator: ChildProcess | undefined;
let core: CoreV1Api;
const logs: string[] = [];
const workDir = mkdtempSync(join(tmpdir(), 'kok-real-rotation-'));

beforeAll(async () => {
  controlPlane = await startControlPlane({ controllerManager: true, scheduler: true, kwok: true, nodes: 1 });
  const kc = controlPlane.kubeConfig;
  core = kc.makeApiClient(CoreV1Api);
  const kubectl = (...args: string[]) =>
    execFileSync(
      join(controlPlane.binDir, 'kubectl'),
      [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args],
      {
        encoding: 'utf8',
      },
    );
  // The kwok Node keeps simulated pods; tainted, it takes none of the real ones.
  kubectl('taint', 'node', 'kwok-node-0', 'kok.dev/simulated=true:NoSchedule');
  for (const file of readdirSync(join(repositoryRoot, 'crds')).filter((f) => f.endsWith('.yaml')))
    kubectl('apply', '--server-side', '-f', join(repositoryRoot, 'crds', file));
  kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/clusters.clusters.kok.dev');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // etcd's claim needs a volume; the runtime keeps a claim's data in its own dir.
  await kc.makeApiClient(StorageV1Api).createStorageClass({
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
        hostPath: { path: join(workDir, 'pv-0') },
      },
    },
  });

  runtime = new LocalPodRuntime({
    kubeConfig: kc,
    binDir: controlPlane.binDir,
    stateDir: join(workDir, 'runtime'),
    onLog: (line) => logs.push(line),
  });
  await runtime.start();

  operator = spawn(
    process.execPath,
    [
      'src/main.ts',
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      `--namespace=${namespace}`,
      `--metrics-bind-address=127.0.0.1:${await freePort()}`,
    ],
    { cwd: join(repositoryRoot, 'apps/kube-on-kube-operator'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
});

afterAll(async () => {
  operator?.kill('SIGTERM');
  await runtime?.stop();
  await controlPlane?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const clusters = () => controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const clusterRef = {
  group: 'clusters.kok.dev',
  version: 'v1alpha1',
  namespace,
  plural: 'clusters',
  name: clusterName,
};

interface ClusterView {
  status?: {
    phase?: string;
    kubeconfigSecretRef?: { name: string; key: string };
    certificates?: { caRotation?: { generation: number; phase: string } };
  };
}
const getCluster = async () => (await clusters().getNamespacedCustomObject(clusterRef)) as ClusterView;

/** The admin kubeconfig as the operator publishes it, pointed at `ip` (the Service name stays the TLS name). */
async function adminKubeconfig(ip: string, file: string): Promise<string> {
  const cluster = await getCluster();
  const ref = cluster.status?.kubeconfigSecretRef ?? { name: '', key: '' };
  const secret = await core.readNamespacedSecret({ name: ref.name, namespace });
  const config = new KubeConfig();
  config.loadFromString(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString());
  const server = new URL(config.getCurrentCluster()?.server ?? '');
  const exported = JSON.parse(config.exportConfig()) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  for (const entry of exported.clusters) {
    entry.cluster['server'] = `https://${ip}:${server.port || '443'}`;
    entry.cluster['tls-server-name'] = server.hostname;
  }
  const path = join(workDir, file);
  writeFileSync(path, JSON.stringify(exported));
  return path;
}

/** A copy of kubeconfig `path` that dials `ip`, keeping its port and TLS name. */
function retarget(path: string, ip: string, file: string): string {
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
  };
  for (const entry of config.clusters) {
    const port = new URL(entry.cluster['server'] ?? '').port;
    entry.cluster['server'] = `https://${ip}:${port}`;
  }
  const target = join(workDir, file);
  writeFileSync(target, JSON.stringify(config));
  return target;
}

const bizKubectl = (kubeconfig: string, ...args: string[]) =>
  execFileSync(
    join(controlPlane.binDir, 'kubectl'),
    [`--kubeconfig=${kubeconfig}`, '--request-timeout=5s', ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );

describe('a CA rotation of a Cluster booted by the local pod runtime', () => {
  it('restarts the real control plane through every phase; the new admin kubeconfig works, the old one is refused', async () => {
    await clusters().createNamespacedCustomObject({
      group: 'clusters.kok.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'clusters',
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: clusterName, namespace },
        spec: {
          version: 'v1.36.3',
          etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: 'local' } },
          controlPlane: {
            apiServer: { replicas: 1 },
            controllerManager: { replicas: 1 },
            scheduler: { replicas: 1 },
          },
        },
      },
    });
    await eventually('the Cluster to be Ready', async () => (await getCluster()).status?.phase === 'Ready');
    const before = await readyPod('kube-apiserver');
    const oldKubeconfig = await adminKubeconfig(before.status?.podIP ?? '', 'old.kubeconfig');
    expect(bizKubectl(oldKubeconfig, 'get', '--raw', '/readyz')).toBe('ok');
    // Something to find again after every member restarted: etcd keeps its data through the rotation.
    bizKubectl(oldKubeconfig, 'create', 'namespace', 'before-rotation');

    const started = Date.now();
    execFileSync(join(controlPlane.binDir, 'kubectl'), [
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      'patch',
      'cluster',
      clusterName,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"certificates":{"caRotationGeneration":1}}}',
    ]);
    await eventually(
      'the rotation to complete with the control plane Ready',
      async () => {
        const cluster = await getCluster();
        return (
          cluster.status?.certificates?.caRotation?.phase === 'Completed' && cluster.status.phase === 'Ready'
        );
      },
      480_000,
    );

    const after = await readyPod('kube-apiserver', before.metadata?.name);
    const newKubeconfig = await adminKubeconfig(after.status?.podIP ?? '', 'new.kubeconfig');
    expect(bizKubectl(newKubeconfig, 'get', '--raw', '/readyz')).toBe('ok');
    expect(bizKubectl(newKubeconfig, 'get', 'namespace', 'before-rotation', '-o', 'name')).toBe(
      'namespace/before-rotation\n',
    );
    // The old kubeconfig trusts only the old CA, which no longer signs the apiserver's certificate.
    const oldAtNewAddress = retarget(oldKubeconfig, after.status?.podIP ?? '', 'old-at-new.kubeconfig');
    expect(() => bizKubectl(oldAtNewAddress, 'get', '--raw', '/readyz')).toThrow(
      /certificate signed by unknown authority|x509/,
    );
    // controller-manager and scheduler came back with kubeconfigs of the new CA and hold their leases again.
    for (const component of ['kube-controller-manager', 'kube-scheduler']) {
      await readyPod(component);
      await eventually(`${component} renews its lease after the rotation`, async () => {
        const renewed = bizKubectl(
          newKubeconfig,
          'get',
          'lease',
          '-n',
          'kube-system',
          component,
          '-o',
          'jsonpath={.spec.renewTime}',
        );
        return Date.parse(renewed) > started;
      });
    }
  }, 600_000);
});
