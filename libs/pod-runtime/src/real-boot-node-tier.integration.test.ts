// End to end, the node tier: the kube-on-kube-operator boots a Cluster's control
// plane for real on the local pod runtime, installs the nodes.kok.dev CRDs and
// the node-agent admission policy into the biz apiserver, and runs the
// node-operator it deploys as a real process, which reconciles a Machine
// created in the biz-cluster.
//
// The operator runs on the host, outside any pod, where the apiserver Service's
// name does not resolve: it dials the apiserver pod's loopback address instead
// (--biz-apiserver-dial=pod-ip). The node-operator runs in a pod, where the
// runtime's private /etc/hosts resolves the Service name of its kubeconfig.
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
const clusterName = 'nodes';

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 90_000,
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
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\nruntime log:\n${logs.join('\n')}\n${containerLogs()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

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

interface ClusterView {
  metadata?: { annotations?: Record<string, string> };
  status?: {
    kubeconfigSecretRef?: { name: string; key: string };
    components?: { nodeOperator?: { ready?: number; version?: string } };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

let controlPlane: ControlPlane;
let runtime: LocalPodRuntime;
let operator: ChildProcess | undefined;
let core: CoreV1Api;
const logs: string[] = [];
const workDir = mkdtempSync(join(tmpdir(), 'kok-real-boot-nodes-'));

beforeAll(async () => {
  controlPlane = await startControlPlane({ controllerManager: true, scheduler: true, kwok: true, nodes: 1 });
  const kc = controlPlane.kubeConfig;
  core = kc.makeApiClient(CoreV1Api);
  const kubectl = (...args: string[]) =>
    execFileSync(
      join(controlPlane.binDir, 'kubectl'),
      [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args],
      { encoding: 'utf8' },
    );
  // The kwok Node keeps simulated pods; tainted, it takes none of the real ones.
  kubectl('taint', 'node', 'kwok-node-0', 'kok.dev/simulated=true:NoSchedule');
  // The meta-cluster gets the clusters.kok.dev CRDs only: the nodes.kok.dev ones are the operator's to install in the biz-cluster.
  for (const file of readdirSync(join(repositoryRoot, 'crds')).filter((f) =>
    f.startsWith('clusters.kok.dev_'),
  ))
    kubectl('apply', '--server-side', '-f', join(repositoryRoot, 'crds', file));
  kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/clusters.clusters.kok.dev');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
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
    // The image's entrypoint (apps/node-operator/Dockerfile), run from this checkout.
    extraImages: {
      'node-operator': [process.execPath, join(repositoryRoot, 'apps/node-operator/src/main.ts')],
    },
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
      '--biz-apiserver-dial=pod-ip',
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

describe('the node tier of a Cluster booted for real', () => {
  it('installs the node API into the biz apiserver and runs a node-operator that reconciles Machines', async () => {
    const kc = controlPlane.kubeConfig;
    const objects = kc.makeApiClient(CustomObjectsApi);
    await objects.createNamespacedCustomObject({
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
    const getCluster = async () =>
      (await objects.getNamespacedCustomObject({
        group: 'clusters.kok.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'clusters',
        name: clusterName,
      })) as ClusterView;
    const condition = (c: ClusterView, type: string) => c.status?.conditions?.find((x) => x.type === type);

    const installed = await eventually(
      'NodeAPIInstalled',
      async () => {
        const c = await getCluster();
        return condition(c, 'NodeAPIInstalled')?.status === 'True' ? c : undefined;
      },
      180_000,
    );
    expect(installed.metadata?.annotations?.['clusters.kok.dev/node-api-hash']).toMatch(/^[0-9a-f]{16}$/);

    // kubectl against the biz apiserver: the admin kubeconfig pointed at the apiserver pod (TLS still checks the Service name).
    const apiServerPod = (
      await core.listNamespacedPod({ namespace, labelSelector: 'clusters.kok.dev/component=kube-apiserver' })
    ).items.find(isReady);
    const ip = apiServerPod?.status?.podIP ?? '';
    const ref = installed.status?.kubeconfigSecretRef ?? { name: '', key: '' };
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace });
    const bizConfig = new KubeConfig();
    bizConfig.loadFromString(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString());
    const server = new URL(bizConfig.getCurrentCluster()?.server ?? '');
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
    for (const crd of ['machines', 'nodepools', 'components', 'remediationpolicies'])
      expect(
        kubectl(
          'get',
          'crd',
          `${crd}.nodes.kok.dev`,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ),
      ).toBe('True');
    expect(kubectl('get', 'validatingadmissionpolicy', 'kok-node-agent-own-machine', '-o', 'name')).toBe(
      'validatingadmissionpolicy.admissionregistration.k8s.io/kok-node-agent-own-machine\n',
    );
    expect(kubectl('get', 'validatingadmissionpolicybinding', '-o', 'name')).toContain(
      'kok-node-agent-own-machine',
    );
    expect(kubectl('get', 'clusterrole', 'kok:node-agent', '-o', 'name')).toContain('kok:node-agent');

    // The node-operator Deployment's pod runs for real, Ready from its own /readyz, and the Cluster says so.
    const nodeOperatorPod = await eventually('the node-operator pod Ready', async () =>
      (
        await core.listNamespacedPod({ namespace, labelSelector: 'clusters.kok.dev/component=node-operator' })
      ).items.find(isReady),
    );
    expect(nodeOperatorPod.spec?.nodeName).toBe(runtime.nodeName);
    const available = await eventually('NodeOperatorAvailable', async () => {
      const c = await getCluster();
      return condition(c, 'NodeOperatorAvailable')?.status === 'True' ? c : undefined;
    });
    expect(available.status?.components?.nodeOperator).toMatchObject({ ready: 1, version: '0.1.0' });
    await eventually('the node-operator holds its lease in the biz-cluster', async () =>
      kubectl(
        'get',
        'lease',
        '-n',
        'kok-system',
        'kok-node-operator',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ),
    );

    // A Machine and its Node in the biz-cluster: the node-operator links them.
    writeFileSync(
      join(workDir, 'machine.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' } },
          {
            apiVersion: 'nodes.kok.dev/v1alpha1',
            kind: 'Machine',
            metadata: { name: 'worker-1' },
            spec: { address: '10.20.3.17' },
          },
        ],
      }),
    );
    kubectl('create', '-f', join(workDir, 'machine.json'));
    const nodeRef = await eventually('Machine worker-1 status.nodeRef', async () =>
      kubectl('get', 'machine', 'worker-1', '-o', 'jsonpath={.status.nodeRef.name}'),
    );
    expect(nodeRef).toBe('worker-1');
  });
});
