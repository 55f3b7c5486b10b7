/**
 * All of kok on one machine, for real where it matters: a meta-cluster, the
 * local pod runtime, the kube-on-kube-operator, a Cluster whose control plane
 * runs as real processes, the node-operator that Cluster gets, and a NodePool
 * of hosts each converged by a real node-agent: real hosts (stack-hosts.ts)
 * where the machine allows it, else stand-ins. `kok up` (main.ts) keeps it
 * running for people; the local-stack e2e test runs that bin as its fixture.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ClusterObject, ClusterSpec } from '@kok/api';
import { clusterType, machineType, nodePoolType } from '@kok/api';
import { KubeClient } from '@kok/reconcile';
import type { ControlPlane } from '@kok/testing';
import { eventually, freePort, startControlPlane } from '@kok/testing';
import { HostRig, realHostSupport } from '@kok/host-rig';
import { LocalPodRuntime, stageMetaCluster } from '@kok/pod-runtime';
import { stopProcess } from '../../node-agent/src/fixtures/agent-hosts.ts';
import type { ApiServerProxy } from './apiserver-proxy.ts';
import type { StackHosts } from './stack-hosts.ts';
import { startRealHosts, startStandInHosts } from './stack-hosts.ts';
import { startApiServerProxy } from './apiserver-proxy.ts';
// Agents start as the app ships them (its bundle).
import { nodeAgentCommand } from '../../node-agent/bundle.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const KOK_OPERATOR_MAIN = join(repositoryRoot, 'apps/kube-on-kube-operator/src/main.ts');
const NODE_OPERATOR_MAIN = join(repositoryRoot, 'apps/node-operator/src/main.ts');

export const STACK_NAMESPACE = 'demo';
export const STACK_CLUSTER = 'demo';
export const STACK_POOL = 'workers';

export interface LocalStackOptions {
  /** Everything the stack writes (logs, roots of the hosts, pod volumes, kubeconfigs) goes here. */
  readonly stateDir: string;
  /** Hosts in the NodePool. Default 3. */
  readonly machines?: number;
  /**
   * Which hosts: `real` (the host rig; fails where the machine cannot run it),
   * `stand-in`, or `auto` (real where the machine allows it, else stand-ins,
   * said in one progress line). Default auto.
   */
  readonly hosts?: 'real' | 'stand-in' | 'auto';
  /** kube-apiserver replicas of the Cluster. Default 1. */
  readonly apiServerReplicas?: number;
  /** One line per finished step. */
  readonly onProgress?: (message: string) => void;
}

export interface LocalStack {
  readonly stateDir: string;
  /** kubeconfig of the meta-cluster (where Clusters live). */
  readonly metaKubeconfigPath: string;
  /** Admin kubeconfig of the biz-cluster, through the host's apiserver proxy. */
  readonly bizKubeconfigPath: string;
  readonly binDir: string;
  readonly meta: KubeClient;
  readonly biz: KubeClient;
  readonly machines: readonly string[];
  readonly apiServerProxy: ApiServerProxy;
  /** The pool's hosts: real ones or stand-ins, their kubelet versions and the pool template at each. */
  readonly hosts: StackHosts;
  stop(): Promise<void>;
}

const isTrue = (cluster: ClusterObject, type: string) =>
  cluster.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

/** Where the stack's operator writes etcd snapshots. */
export function etcdSnapshotDir(stateDir: string): string {
  return join(stateDir, 'etcd-snapshots');
}

export function clusterSpec(
  apiServerReplicas: number,
  version = 'v1.36.3',
  advertiseAddress?: string,
): ClusterSpec {
  return {
    version,
    etcd: {
      replicas: 1,
      storage: { size: '1Gi', storageClassName: 'local' },
      // Written under the stack's state directory (the operator's --etcd-snapshot-dir).
      backup: { intervalMinutes: 60, keep: 3 },
    },
    controlPlane: {
      apiServer: { replicas: apiServerReplicas, ...(advertiseAddress ? { advertiseAddress } : {}) },
      controllerManager: { replicas: 1 },
      scheduler: { replicas: 1 },
    },
    nodeOperator: { enabled: true },
  } as ClusterSpec;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => undefined);
  const began = performance.now();
  const seconds = () => `${((performance.now() - began) / 1000).toFixed(1)}s`;
  const step = (message: string) => progress(`${message} (at ${seconds()})`);
  const { stateDir } = options;
  mkdirSync(stateDir, { recursive: true });
  const machineCount = options.machines ?? 3;
  const machines = Array.from({ length: machineCount }, (_, i) => `worker-${i}`);

  // Stopped in reverse order of starting, whatever step failed.
  const stops: { what: string; stop: () => Promise<unknown> }[] = [];
  const onStop = (what: string, stopOne: () => Promise<unknown>) => stops.push({ what, stop: stopOne });
  const stop = async () => {
    for (const { what, stop: stopOne } of stops.reverse()) {
      const stopBegan = performance.now();
      await stopOne().catch((error: unknown) => progress(`stopping ${what} failed: ${String(error)}`));
      progress(`stopped ${what} in ${((performance.now() - stopBegan) / 1000).toFixed(1)}s`);
    }
    stops.length = 0;
  };

  try {
    // 0. Real hosts where the machine allows it: the rig comes first, its gateway goes into the apiserver's certificate.
    const rig = await hostRigIfPossible(options.hosts ?? 'auto', progress);
    if (rig) onStop('the host rig (every host, its namespaces, cgroups and mounts)', () => rig.destroy());

    // 1. The meta-cluster. Its pods run on the pod runtime's Node only: no kwok here.
    const controlPlane: ControlPlane = await startControlPlane({
      controllerManager: true,
      scheduler: true,
      baseDir: stateDir,
    });
    onStop('the meta-cluster', () => controlPlane.stop());
    const metaKubeconfigPath = join(stateDir, 'meta.kubeconfig');
    copyFileSync(controlPlane.kubeconfigPath, metaKubeconfigPath);
    const metaConfig = controlPlane.kubeConfig;
    await stageMetaCluster({
      controlPlane: {
        binDir: controlPlane.binDir,
        kubeConfig: metaConfig,
        kubeconfigPath: metaKubeconfigPath,
      },
      crdsDir: join(repositoryRoot, 'crds'),
      namespace: STACK_NAMESPACE,
      volumePath: join(stateDir, 'pv-0'),
    });
    const core = metaConfig.makeApiClient(CoreV1Api);
    step('meta-cluster up: etcd, kube-apiserver, controller-manager, scheduler');

    // 2. The pod runtime: the meta-cluster's only Node, running pods as local processes.
    const runtimeLog = openSync(join(stateDir, 'pod-runtime.log'), 'a');
    const runtime = new LocalPodRuntime({
      kubeConfig: metaConfig,
      binDir: controlPlane.binDir,
      stateDir: join(stateDir, 'runtime'),
      extraImages: { 'node-operator': [process.execPath, NODE_OPERATOR_MAIN] },
      // A patch upgrade of the stack's Cluster moves between tags of the one build here; each is logged.
      substituteUnbuiltVersions: true,
      onLog: (line) => writeFileSync(runtimeLog, `${new Date().toISOString()} ${line}\n`),
    });
    await runtime.start();
    onStop('the pod runtime and its pods', async () => {
      await runtime.stop();
      closeSync(runtimeLog);
    });
    step(
      `pod runtime up: Node ${runtime.nodeName} runs the meta-cluster's pods as local processes; a control-plane ` +
        `image of a version with no local build runs the ${basename(controlPlane.binDir)} build (each logged in pod-runtime.log)`,
    );

    // 3. The kube-on-kube-operator, as deployed but on the host.
    const operator = spawnLogged(
      'kube-on-kube-operator',
      [
        KOK_OPERATOR_MAIN,
        `--kubeconfig=${metaKubeconfigPath}`,
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        // Service names of the meta-cluster do not resolve on the host: dial a Ready apiserver pod.
        '--biz-apiserver-dial=pod-ip',
        '--etcd-dial=pod-ip',
        `--etcd-snapshot-dir=${etcdSnapshotDir(stateDir)}`,
      ],
      stateDir,
    );
    onStop('the kube-on-kube-operator', () => stopProcess(operator, 'SIGTERM'));
    step('kube-on-kube-operator started');

    // 4. A Cluster, booted for real.
    const meta = new KubeClient(metaConfig);
    onStop('the meta-cluster client', async () => meta.close());
    await meta.create(clusterType, {
      apiVersion: clusterType.apiVersion,
      kind: clusterType.kind,
      metadata: { name: STACK_CLUSTER, namespace: STACK_NAMESPACE },
      spec: {
        // Real hosts and their pods dial the apiserver through the proxy on the rig's gateway, on the apiserver's
        // own port: the biz-cluster's `kubernetes` Service points there (its advertise address), and kube-proxy dials it.
        ...clusterSpec(options.apiServerReplicas ?? 1, undefined, rig?.gateway),
        ...(rig ? { certSANs: [rig.gateway] } : {}),
      },
    });
    const reported = new Set<string>();
    const cluster = await eventually(
      `Cluster ${STACK_NAMESPACE}/${STACK_CLUSTER} Available (logs in ${stateDir})`,
      async () => {
        const object = await meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });
        for (const type of [
          'EtcdAvailable',
          'APIServerAvailable',
          'ControllerManagerAvailable',
          'SchedulerAvailable',
        ])
          if (isTrue(object, type) && !reported.has(type)) {
            reported.add(type);
            step(`Cluster ${STACK_CLUSTER}: ${type}`);
          }
        return isTrue(object, 'Available') && object.status?.kubeconfigSecretRef ? object : undefined;
      },
      180_000,
      500,
    );
    step(`Cluster ${STACK_CLUSTER} Available: its control plane runs as real processes`);

    // 5. The host's way into the biz-cluster: one stable address whatever the apiserver pods' addresses.
    const apiServerProxy = await startApiServerProxy({
      meta: metaConfig,
      extraAddresses: rig ? [rig.gateway] : [],
      // The port a kok apiserver serves on: the `kubernetes` Service's endpoint is the advertise address on it.
      extraAddressPort: 6443,
      namespace: STACK_NAMESPACE,
      cluster: STACK_CLUSTER,
    });
    onStop('the apiserver proxy', () => apiServerProxy.close());
    const ref = cluster.status?.kubeconfigSecretRef ?? { name: '', key: '' };
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace: STACK_NAMESPACE });
    const bizKubeconfigPath = join(stateDir, 'biz.kubeconfig');
    writeFileSync(
      bizKubeconfigPath,
      throughProxy(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString(), apiServerProxy.url),
      { mode: 0o600 },
    );
    const bizConfig = new KubeConfig();
    bizConfig.loadFromFile(bizKubeconfigPath);
    const biz = new KubeClient(bizConfig);
    onStop('the biz-cluster client', async () => biz.close());

    // 6. The node tier the operator installs: node CRDs in the biz-cluster, a node-operator pod in the meta-cluster.
    await eventually(
      'the node-operator of the Cluster Available and the node CRDs in the biz-cluster',
      async () =>
        isTrue(
          await meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER }),
          'NodeOperatorAvailable',
        ) && (await biz.list(machineType)) !== undefined,
      120_000,
      500,
    );
    step('node CRDs installed in the biz-cluster; its node-operator runs in the meta-cluster');

    // 7. A NodePool of hosts, each converged by a real node-agent with its own certificate.
    const context = {
      biz,
      bizConfig,
      bizKubeconfigPath,
      stateDir,
      pool: STACK_POOL,
      machines,
      clusterVersion: cluster.spec.version,
      onStop,
    };
    const hosts = rig
      ? await startRealHosts(context, rig, apiServerProxy.urlOn(rig.gateway))
      : await startStandInHosts(context);
    const firstKubelet = hosts.kubeletVersions[0] as string;
    await eventually(
      `NodePool ${STACK_POOL}: ${machineCount} machines Ready at ${firstKubelet}`,
      async () => {
        const pool = await biz.get(nodePoolType, { name: STACK_POOL });
        return pool.status?.readyMachines === machineCount && pool.status.updatedMachines === machineCount;
      },
      240_000,
      500,
    );
    step(
      hosts.kind === 'real'
        ? `NodePool ${STACK_POOL}: ${machineCount} real hosts Ready (kubelet ${firstKubelet}, containerd, runc; joined by TLS bootstrap)`
        : `NodePool ${STACK_POOL}: ${machineCount} stand-in hosts Ready at ${firstKubelet}, each converged by a real node-agent`,
    );

    // 7. The add-ons the operator deployed into the Cluster once its control plane was Available.
    const addons = await eventually(
      `Cluster ${STACK_CLUSTER}: AddonsReady written`,
      async () => {
        const object = await meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });
        const ready = object.status?.conditions?.find((c) => c.type === 'AddonsReady');
        // Stand-ins run no pods and reach no apiserver address: there the add-ons only say why they wait.
        return ready && (ready.status === 'True' || hosts.kind === 'stand-in') ? ready : undefined;
      },
      180_000,
      500,
    );
    step(
      addons.status === 'True'
        ? `add-ons in the Cluster: ${addons.message} (CoreDNS serves Service names to pods, kube-proxy carries Services on every host)`
        : `add-ons in the Cluster: not ready (${addons.message})`,
    );

    return {
      stateDir,
      metaKubeconfigPath,
      bizKubeconfigPath,
      binDir: controlPlane.binDir,
      meta,
      biz,
      machines,
      apiServerProxy,
      hosts,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A kubeconfig whose clusters are reached through `server`, still verifying the apiserver's own name. */
function throughProxy(kubeconfig: string, server: string): string {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const exported = JSON.parse(config.exportConfig()) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  for (const entry of exported.clusters) {
    entry.cluster['tls-server-name'] = new URL(entry.cluster['server'] ?? '').hostname;
    entry.cluster['server'] = server;
  }
  return JSON.stringify(exported, null, 2);
}

async function hostRigIfPossible(
  wanted: 'real' | 'stand-in' | 'auto',
  progress: (message: string) => void,
): Promise<HostRig | undefined> {
  if (wanted === 'stand-in') return undefined;
  const support = realHostSupport();
  if (!support.supported) {
    if (wanted === 'real') throw new Error(`real hosts cannot run here: ${support.problems.join('; ')}`);
    progress(`real hosts cannot run here (${support.problems.join('; ')}): the hosts are stand-ins`);
    return undefined;
  }
  return HostRig.create({
    agentCommand: await nodeAgentCommand(),
    agentArgs: ['--http-port', '0', '--resync-seconds', '30'],
  });
}

/** A child process of the host, its output appended to `<name>.log` in `dir`. */
function spawnLogged(name: string, args: readonly string[], dir: string): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}
