/**
 * All of kok on one machine, for real where it matters: a meta-cluster with
 * the kube-on-kube-operator, a Cluster booted for real, the node-operator
 * that Cluster gets, and a NodePool of hosts each converged by a real
 * node-agent. Where the machine runs real hosts, the meta-cluster's Nodes are
 * real hosts, the operator is installed by helm and the Cluster's control
 * plane runs as real containers (container-meta.ts); elsewhere, or when
 * chosen, the local pod runtime runs it as processes (process-meta.ts), and
 * the pool's hosts are stand-ins where real ones cannot run (stack-hosts.ts).
 * `kok up` (main.ts) keeps it running for people; the local-stack e2e tests
 * run that bin as their fixture.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ClusterObject, ClusterSpec } from '@kok/api';
import { clusterType, machineType, nodePoolType } from '@kok/api';
import type { ApiServerProxy } from '@kok/host-rig';
import { HostRig, kubeconfigThroughProxy, realHostSupport, startApiServerProxy } from '@kok/host-rig';
import { KubeClient } from '@kok/reconcile';
import { eventually } from '@kok/testing';
import { chooseControlPlane } from './control-plane-choice.ts';
import type { HostKind } from './control-plane-choice.ts';
import { startContainerMeta } from './container-meta.ts';
import { startProcessMeta } from './process-meta.ts';
import type { StackHosts } from './stack-hosts.ts';
import { startRealHosts, startStandInHosts } from './stack-hosts.ts';
import { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL } from './stack-names.ts';
import type { ControlPlaneKind, MetaSide } from './stack-steps.ts';
import { stackSteps } from './stack-steps.ts';
// Agents start as the app ships them (its bundle).
import { nodeAgentCommand } from '../../node-agent/bundle.ts';

export { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL } from './stack-names.ts';

export type { HostKind } from './control-plane-choice.ts';

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
  readonly hosts?: HostKind;
  /**
   * Where the Cluster's control plane runs: `containers` (real containers on real meta-cluster hosts;
   * fails where real hosts cannot run), `processes` (the local pod runtime), or `auto` (containers where
   * real hosts run, else processes, said in one progress line). Default auto.
   */
  readonly controlPlane?: ControlPlaneKind | 'auto';
  /** kube-apiserver replicas of the Cluster. Default 1. */
  readonly apiServerReplicas?: number;
  /** One line per finished step. */
  readonly onProgress?: (message: string) => void;
}

export interface LocalStack {
  readonly stateDir: string;
  /** Where the Cluster's control plane runs. */
  readonly controlPlane: ControlPlaneKind;
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
  /** Where the operator writes the Cluster's etcd snapshots, where it does. */
  readonly etcdSnapshotDir?: string;
  /** Where the logs are, for people. */
  readonly logsWhere: string;
  stop(): Promise<void>;
}

const isTrue = (cluster: ClusterObject, type: string) =>
  cluster.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

/** The demo Cluster's spec: what the meta side asks for (etcd snapshots, the apiserver Service) and the address hosts dial. */
export function clusterSpec(
  apiServerReplicas: number,
  metaSide: Pick<MetaSide, 'apiServerServiceType' | 'etcdSnapshotDir' | 'version'>,
  advertiseAddress?: string,
): ClusterSpec {
  return {
    version: metaSide.version,
    etcd: {
      replicas: 1,
      storage: { size: '1Gi', storageClassName: 'local' },
      // Written where the operator keeps snapshots (its --etcd-snapshot-dir), where it has one.
      ...(metaSide.etcdSnapshotDir ? { backup: { intervalMinutes: 60, keep: 3 } } : {}),
    },
    controlPlane: {
      apiServer: {
        replicas: apiServerReplicas,
        ...(advertiseAddress ? { advertiseAddress } : {}),
        ...(metaSide.apiServerServiceType === 'NodePort' ? { service: { type: 'NodePort' } } : {}),
      },
      controllerManager: { replicas: 1 },
      scheduler: { replicas: 1 },
    },
    nodeOperator: { enabled: true },
  } as ClusterSpec;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => undefined);
  const steps = stackSteps(progress);
  const { step, onStop } = steps;
  const stop = () => steps.stopAll();
  const { stateDir } = options;
  mkdirSync(stateDir, { recursive: true });
  const machineCount = options.machines ?? 3;
  const machines = Array.from({ length: machineCount }, (_, i) => `worker-${i}`);

  try {
    const hostKind = options.hosts ?? 'auto';
    const choice = chooseControlPlane(options.controlPlane ?? 'auto', hostKind, realHostSupport());
    if (choice.announce) progress(choice.announce);
    // 0. Real hosts where the machine allows it: the rig comes first, its gateway goes into the apiserver's certificate.
    const rig = await hostRigIfPossible(choice.kind === 'containers' ? 'real' : hostKind, progress);
    if (rig)
      onStop('the host rig of the pool (every host, its namespaces, cgroups and mounts)', () =>
        rig.destroy(),
      );

    // 1–3. The meta-cluster, what runs its pods, and the kube-on-kube-operator.
    const metaSide =
      choice.kind === 'containers'
        ? await startContainerMeta(stateDir, steps)
        : await startProcessMeta(stateDir, steps);
    const { metaKubeconfigPath } = metaSide;

    // 4. A Cluster, booted for real.
    const { metaConfig } = metaSide;
    const core = metaConfig.makeApiClient(CoreV1Api);
    const meta = new KubeClient(metaConfig);
    onStop('the meta-cluster client', async () => meta.close());
    await meta.create(clusterType, {
      apiVersion: clusterType.apiVersion,
      kind: clusterType.kind,
      metadata: { name: STACK_CLUSTER, namespace: STACK_NAMESPACE },
      spec: {
        // Real hosts and their pods dial the apiserver through the proxy on the rig's gateway, on the apiserver's
        // own port: the biz-cluster's `kubernetes` Service points there (its advertise address), and kube-proxy dials it.
        ...clusterSpec(options.apiServerReplicas ?? 1, metaSide, rig?.gateway),
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
    step(`Cluster ${STACK_CLUSTER} Available: its control plane runs as ${metaSide.runsAs}`);

    // 5. The host's way into the biz-cluster: one stable address whatever the apiserver pods' addresses.
    const apiServerProxy = await startApiServerProxy({
      meta: metaConfig,
      reach: metaSide.reach,
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
      kubeconfigThroughProxy(
        Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString(),
        apiServerProxy.url,
      ),
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
      controlPlane: metaSide.kind,
      metaKubeconfigPath,
      bizKubeconfigPath,
      binDir: metaSide.binDir,
      meta,
      biz,
      machines,
      apiServerProxy,
      hosts,
      ...(metaSide.etcdSnapshotDir ? { etcdSnapshotDir: metaSide.etcdSnapshotDir } : {}),
      logsWhere: metaSide.logsWhere,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function hostRigIfPossible(
  wanted: HostKind,
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
