// End to end: the kube-on-kube-operator renders a Cluster, the meta-cluster's
// scheduler puts its pods on the runtime's Node, and the runtime boots them for
// real: etcd, then a kube-apiserver that answers /readyz and `kubectl get ns`.
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
import { runProbe } from './probe.ts';
import { LocalPodRuntime } from './local-pod-runtime.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const namespace = 'biz';
const clusterName = 'real';

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
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
const workDir = mkdtempSync(join(tmpdir(), 'kok-real-boot-'));

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

describe('a Cluster rendered by the operator, booted by the local pod runtime', () => {
  it('runs etcd and kube-apiserver for real, and the biz apiserver serves kubectl', async () => {
    const kc = controlPlane.kubeConfig;
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
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

    const podOf = (component: string) => async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: `clusters.kok.dev/component=${component}` }))
        .items[0];
    const readyPod = (component: string) =>
      eventually(`${component} Ready`, async () => {
        const pod = await podOf(component)();
        return pod && isReady(pod) ? pod : undefined;
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\nruntime log:\n${logs.join('\n')}\n${containerLogs()}`);
      });

    const etcdPod = await readyPod('etcd');
    expect(etcdPod.spec?.nodeName).toBe(runtime.nodeName);
    expect(etcdPod.status?.podIP).toMatch(/^127\./);
    expect(etcdPod.status?.phase).toBe('Running');

    const apiServerPod = await readyPod('kube-apiserver');
    const ip = apiServerPod.status?.podIP ?? '';
    expect(ip).toMatch(/^127\./);
    expect(ip).not.toBe(etcdPod.status?.podIP);
    // Readiness came from the real /readyz, which we ask again here.
    const container = apiServerPod.spec?.containers[0];
    expect(container).toBeDefined();
    expect(await runProbe(container?.readinessProbe ?? {}, container ?? { name: '' }, ip)).toBe(true);

    // The admin kubeconfig the operator published, pointed at the pod's address (the Service name keeps TLS happy).
    const cluster = await eventually('Cluster status.kubeconfigSecretRef', async () => {
      const object = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'clusters.kok.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'clusters',
        name: clusterName,
      })) as { status?: { kubeconfigSecretRef?: { name: string; key: string } } };
      return object.status?.kubeconfigSecretRef ? object : undefined;
    });
    const ref = cluster.status?.kubeconfigSecretRef ?? { name: '', key: '' };
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace });
    const bizConfig = new KubeConfig();
    bizConfig.loadFromString(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString());
    const bizCluster = bizConfig.getCurrentCluster();
    const server = new URL(bizCluster?.server ?? '');
    const exported = JSON.parse(bizConfig.exportConfig()) as {
      clusters: { name: string; cluster: Record<string, string> }[];
    };
    for (const entry of exported.clusters) {
      entry.cluster['server'] = `https://${ip}:${server.port || '443'}`;
      entry.cluster['tls-server-name'] = server.hostname;
    }
    const bizKubeconfig = join(workDir, 'biz.kubeconfig');
    writeFileSync(bizKubeconfig, JSON.stringify(exported));
    const kubectl = (...args: string[]) =>
      execFileSync(join(controlPlane.binDir, 'kubectl'), [`--kubeconfig=${bizKubeconfig}`, ...args], {
        encoding: 'utf8',
      });
    expect(kubectl('get', '--raw', '/readyz')).toBe('ok');
    const namespaces = kubectl('get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/default');
    expect(namespaces).toContain('namespace/kube-system');

    // The biz controller-manager and scheduler run too: Ready from their own /healthz, holding their leases in the biz cluster.
    for (const component of ['kube-controller-manager', 'kube-scheduler']) {
      const pod = await readyPod(component);
      expect(pod.spec?.nodeName).toBe(runtime.nodeName);
      await eventually(
        `${component} holds its lease in the biz cluster`,
        async () =>
          kubectl('get', 'lease', '-n', 'kube-system', component, '-o', 'jsonpath={.spec.holderIdentity}')
            .length > 0,
      );
    }
  });

  it('stops the process of a deleted pod and boots its replacement on a new address', async () => {
    const old = await readyPod('kube-apiserver');
    const oldIP = old.status?.podIP ?? '';
    const container = old.spec?.containers[0] ?? { name: '' };
    await core.deleteNamespacedPod({ name: old.metadata?.name ?? '', namespace });
    await eventually('the old pod gone from the API', async () =>
      (await podsOf('kube-apiserver')).every((pod) => pod.metadata?.name !== old.metadata?.name),
    );
    expect(runtime.podIP(namespace, old.metadata?.name ?? '')).toBeUndefined();
    // Nothing listens on the old address any more: the process is gone, not just the object.
    expect(await runProbe({ tcpSocket: { port: 'https' } }, container, oldIP)).toBe(false);

    const replacement = await readyPod('kube-apiserver', old.metadata?.name);
    expect(replacement.status?.podIP).toMatch(/^127\./);
    expect(replacement.status?.podIP).not.toBe(oldIP);
    expect(await runProbe(container.readinessProbe ?? {}, container, replacement.status?.podIP ?? '')).toBe(
      true,
    );
  });
});
