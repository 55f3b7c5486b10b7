/**
 * Real hosts, end to end: a control plane that accepts real kubelets, three
 * hosts of the host rig (each its own network namespace, root and cgroups)
 * that start with nothing but a node-agent, a short-lived bootstrap token and
 * the cluster's CA, and the node-operator as a process. Everything on the
 * hosts — containerd, the kubelet, the images pods run — is installed by the
 * agents from Components; the kubelets join by TLS bootstrap.
 *
 * The scenarios build on each other, in order:
 *   1. scale out: three Machines become three Ready Nodes; kubelets and agents get their client
 *      certificates from approved CSRs, asked for with each host's bootstrap token;
 *   2. a Deployment of three replicas with a PodDisruptionBudget (minAvailable 2) runs on them;
 *   3. a NodePool rollout moves every host to the next kubelet minor and containerd version: held by
 *      the pool's health gate while a problem is logged on one host, then the canary wave's host first,
 *      draining real pods through the Eviction API; the Deployment never drops below 2 available;
 *   4. a problem logged on one host becomes its Node's condition (node-problem-detector, installed as a
 *      Component), and a RemediationPolicy restarts the component named until it clears;
 *   5. a kubelet configuration that makes it exit fails the canary (its Node shows KokComponentFailed),
 *      pauses the pool (maxFailed 0) and is rolled back: the host runs its kubelet again, Node Ready;
 *   6. scale in: a deleted Machine is cordoned and drained, its agent stops and removes the host's
 *      software, what that software kept (containerd's root and state, the kubelet's root dir) and the
 *      files it wrote from the Machine spec; its Node is deleted, its pods run elsewhere;
 *   7. an agent's own certificate is refused on another host's Machine;
 *   8. teardown: the whole cluster gone, nothing of the hosts is left on the machine — no process (shims
 *      and containers included), mount, network namespace, link, cgroup (pods' too) or iptables rule.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import {
  apiVersionOf,
  CLUSTERS_GROUP,
  componentType,
  Finalizers,
  findCondition,
  machineType,
  NodePoolConditions,
  nodePoolType,
  NODES_GROUP,
  RemediationPolicyResource,
  templateRevision,
} from '@kok/api';
import type { MachineObject, NodePoolObject, NodePoolTemplate } from '@kok/api';
import {
  AGENT_KUBECONFIG,
  COMPONENT_NAMES,
  CONTAINERD_DATA_PATHS,
  HOST_PROBLEM_CONDITION,
  KUBELET_DATA_PATHS,
  leftovers,
  mountsUnder,
  NODE_PATHS,
  realHostDisruptionPolicy,
  realHostSupport,
  realHostTemplate,
  ROOT_IN_HOST,
  snapshotMachine,
  startRealHostCluster,
} from '@kok/host-rig';
import type { MachineSnapshot, RealHostCluster } from '@kok/host-rig';
import {
  builtinTypes,
  ForbiddenError,
  Informer,
  isNotFound,
  KubeClient,
  PatchType,
  resourceType,
} from '@kok/reconcile';
import { eventually, freePort, installCrds } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAgentAccess } from './support/agent-access.ts';
import { stopProcess } from '../../apps/node-agent/src/fixtures/agent-hosts.ts';
import { startOperatorProcess } from './support/operator-process.ts';
import { nodeAgentCommand } from '../../apps/node-agent/bundle.ts';

const HOSTS = ['rh-0', 'rh-1', 'rh-2'];
const POOL = 'real-hosts';
const POOL_LABEL = 'e2e.kok.dev/pool';
const APP = 'sleeper';

const support = realHostSupport();
// Under CI the real path must run: a machine that cannot run it fails the suite instead of skipping it.
const runsHere = support.supported || process.env.CI === 'true';

let cluster: RealHostCluster;
/** The machine before the rig existed: what teardown must return it to. */
let machineBefore: MachineSnapshot | undefined;
let stopped = false;
let client: KubeClient;
let operator: ChildProcess | undefined;
let workDir: string;
let versions: { kubelet: readonly string[]; containerd: readonly string[]; nodeProblemDetector: string };
/** The scenarios build on the first; the later ones fail at once without it instead of timing out. */
let joined = false;
/** The hosts still in the cluster after the scale-in. */
let remaining = HOSTS;

const deploymentType = resourceType<
  KubernetesObject & { spec: unknown; status?: { availableReplicas?: number } }
>('apps/v1', 'Deployment', 'deployments', true);
const daemonSetType = resourceType<KubernetesObject & { spec: unknown; status?: { numberReady?: number } }>(
  'apps/v1',
  'DaemonSet',
  'daemonsets',
  true,
);
/** In the argv of the DaemonSet's containers, so a host can be searched for them. */
const DAEMON_MARKER = 'kok-e2e-node-daemon';
const pdbType = resourceType<KubernetesObject & { spec: unknown }>(
  'policy/v1',
  'PodDisruptionBudget',
  'poddisruptionbudgets',
  true,
);
const remediationPolicyType = resourceType<KubernetesObject & { spec: unknown }>(
  apiVersionOf(RemediationPolicyResource),
  'RemediationPolicy',
  RemediationPolicyResource.plural,
  false,
);
const csrType = resourceType<
  KubernetesObject & {
    spec: { username?: string; signerName?: string };
    status?: { certificate?: string; conditions?: { type: string; status: string; reason?: string }[] };
  }
>('certificates.k8s.io/v1', 'CertificateSigningRequest', 'certificatesigningrequests', false);

function template(step: 'old' | 'new' | 'broken'): NodePoolTemplate {
  const latest = step !== 'old';
  return realHostTemplate({
    kubelet: latest ? (versions.kubelet.at(-1) as string) : (versions.kubelet[0] as string),
    containerd: latest ? (versions.containerd.at(-1) as string) : (versions.containerd[0] as string),
    imageVersions: cluster.software.imageVersions,
    cgroupParent: cluster.rig.cgroupParent,
    nodeProblemDetector: cluster.versions.nodeProblemDetector,
    // On cgroup v1 this makes the kubelet refuse to start: a new revision whose kubelet exits at once.
    ...(step === 'broken' ? { kubeletRefusesToStart: true } : {}),
  });
}

const getPool = (): Promise<NodePoolObject> => client.get(nodePoolType, { name: POOL });
const nodes = async (): Promise<V1Node[]> =>
  (await client.list(builtinTypes.node)).items.filter((n) => HOSTS.includes(n.metadata?.name ?? ''));
const isReady = (node: V1Node) =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function operatorLogTail(): string {
  try {
    return readFileSync(join(workDir, 'logs', 'node-operator.log'), 'utf8')
      .split('\n')
      .slice(-20)
      .join('\n');
  } catch {
    return '(no operator log)';
  }
}

function hostContext(): string {
  return cluster.rig.hosts.map((h) => `--- ${h.name} agent log:\n${h.logTail(15)}`).join('\n');
}

/** The pool's current revision is `revision`, every machine runs it, and every Node is Ready on `kubelet`. */
async function settledAt(step: 'old' | 'new', timeoutMs: number): Promise<void> {
  const revision = templateRevision(template(step));
  const kubelet = step === 'old' ? versions.kubelet[0] : versions.kubelet.at(-1);
  await eventually(
    `every host at revision ${revision} with kubelet ${kubelet}, Ready`,
    async () => {
      if ((await getPool()).status?.currentRevision !== revision) return false;
      const machines = (await client.list(machineType)).items;
      const all = await nodes();
      return (
        machines.every((m) => m.status?.revision?.current === revision) &&
        all.length === HOSTS.length &&
        all.every(
          (n) => isReady(n) && n.status?.nodeInfo?.kubeletVersion === kubelet && !n.spec?.unschedulable,
        )
      );
    },
    timeoutMs,
    { intervalMs: 500, context: hostContext },
  );
}

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  cluster = await startRealHostCluster({
    agentCommand: await nodeAgentCommand(),
    agentArgs: ['--http-port', '0', '--resync-seconds', '30'],
    setup: async (admin, controlPlane) => {
      for (const group of [NODES_GROUP, CLUSTERS_GROUP]) await installCrds(admin, group);
      // The agents' RBAC and admission policy, as the node-operator chart installs them.
      await installAgentAccess(controlPlane.kubeConfig);
    },
  });
  versions = cluster.versions;
  workDir = cluster.rig.dir;
  client = new KubeClient(cluster.controlPlane.kubeConfig, { fieldManager: 'kok-e2e', qps: 100, burst: 200 });
  await eventually(
    'the nodes.kok.dev CRDs to be served',
    async () => {
      await client.list(machineType, { limit: 1 });
      await client.list(nodePoolType, { limit: 1 });
      return true;
    },
    60_000,
  );
  for (const [name, spec] of Object.entries(cluster.software.components))
    await client.create(componentType, {
      apiVersion: componentType.apiVersion,
      kind: componentType.kind,
      metadata: { name },
      spec,
    });
  await client.create(nodePoolType, {
    apiVersion: nodePoolType.apiVersion,
    kind: nodePoolType.kind,
    metadata: { name: POOL },
    spec: {
      template: template('old'),
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: 1 } },
        waves: [{ name: 'canary', count: 1 }],
        // node-problem-detector's condition: a host with a problem logged holds its place in maxUnavailable.
        healthGates: [{ type: HOST_PROBLEM_CONDITION, status: 'False' }],
        maxFailed: 0,
        autoRollback: true,
      },
      drain: { timeoutSeconds: 300 },
      disruptionPolicy: realHostDisruptionPolicy(),
    },
  } as NodePoolObject);
  const metricsPort = await freePort();
  operator = startOperatorProcess({
    kubeconfigPath: cluster.controlPlane.kubeconfigPath,
    metricsPort,
    logFile: join(workDir, 'logs', 'node-operator.log'),
  });
}, 600_000);

/** Stops the operator and everything of the cluster (the last test does it, and checks what is left). */
async function teardown(): Promise<void> {
  if (stopped) return;
  stopped = true;
  if (operator) await stopProcess(operator);
  await cluster?.stop();
}

afterAll(teardown, 180_000);

describe.runIf(runsHere)('real hosts: containerd, kubelet and pods installed and upgraded by kok', () => {
  it('runs on this machine (root, network namespaces, cgroup v1, runc, CNI plugins)', () => {
    expect(support.problems).toEqual([]);
  });

  it('scales out: three Machines become three Ready Nodes, each kubelet joining by TLS bootstrap', async () => {
    const old = template('old');
    const began = Date.now();
    for (const name of HOSTS) {
      // As an installer leaves it: told the pool's revision; the host boots with nothing but the node-agent.
      await client.create(machineType, {
        apiVersion: machineType.apiVersion,
        kind: machineType.kind,
        metadata: { name, labels: { [POOL_LABEL]: POOL } },
        spec: { pool: POOL, address: cluster.nextAddress(), revision: templateRevision(old), ...old },
      } as MachineObject);
      await cluster.addHost(name);
    }
    await eventually(
      'three Ready Nodes',
      async () => {
        const all = await nodes();
        return all.length === HOSTS.length && all.every(isReady);
      },
      240_000,
      { intervalMs: 500, context: hostContext },
    );
    console.log(
      `[real-hosts] 3 hosts joined, Ready ${((Date.now() - began) / 1000).toFixed(1)} s after the first Machine`,
    );
    for (const node of await nodes()) {
      expect(node.status?.nodeInfo?.kubeletVersion).toBe(versions.kubelet[0]);
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toBe(
        `containerd://${versions.containerd[0]?.replace(/^v/, '')}`,
      );
    }
    // Each agent read the versions back from the binaries themselves (Component versionCheck). It logs that
    // once the component is healthy, which may come a moment after its Node turned Ready.
    const kubeletVersionRead = new RegExp(
      `"component":"kubelet","installed":"${versions.kubelet[0]}","reported":"${versions.kubelet[0]?.replace(/^v/, '')}"`,
    );
    const containerdVersionRead = /"component":"containerd","installed":"v?[\d.]+","reported":"[\d.]+"/;
    for (const name of HOSTS) {
      await eventually(
        `${name}'s agent read the kubelet and containerd versions back`,
        () => {
          const log = readFileSync(cluster.rig.host(name).logFile, 'utf8');
          return kubeletVersionRead.test(log) && containerdVersionRead.test(log);
        },
        60_000,
        { intervalMs: 500, context: hostContext },
      );
    }
    // Each kubelet asked for its client certificate with its bootstrap token, and the controller-manager approved it.
    const csrs = (await client.list(csrType)).items.filter(
      (c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet',
    );
    const approvedForBootstrap = csrs.filter(
      (c) =>
        c.spec.username?.startsWith('system:bootstrap:') &&
        c.status?.conditions?.some((x) => x.type === 'Approved' && x.status === 'True') &&
        c.status.certificate,
    );
    expect(approvedForBootstrap.length).toBeGreaterThanOrEqual(HOSTS.length);
    // Their serving certificates too: the node-operator approved each for the Machine of the same name and address.
    await eventually(
      'an approved kubelet serving certificate for every host',
      async () => {
        const serving = (await client.list(csrType)).items.filter(
          (c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.status?.certificate,
        );
        return HOSTS.every((name) =>
          serving.some(
            (c) =>
              c.spec.username === `system:node:${name}` &&
              c.status?.conditions?.some((x) => x.type === 'Approved' && x.reason === 'KokMachineMatched'),
          ),
        );
      },
      60_000,
    );
    // Each agent got its own identity the same way: asked with the host's bootstrap token, approved by the
    // node-operator for the Machine of that name, signed by the controller-manager.
    const agentCsrs = (await client.list(csrType)).items.filter(
      (c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client' && c.status?.certificate,
    );
    for (const name of HOSTS)
      expect(
        agentCsrs.some(
          (c) =>
            c.metadata?.labels?.['nodes.kok.dev/machine'] === name &&
            c.spec.username?.startsWith('system:bootstrap:') &&
            c.status?.conditions?.some(
              (x) => x.type === 'Approved' && x.reason === 'KokNodeAgentMachineMatched',
            ),
        ),
        `an approved node-agent CSR of ${name} among ${JSON.stringify(agentCsrs.map((c) => [c.metadata?.name, c.metadata?.labels, c.spec.username, c.status?.conditions?.map((x) => x.reason)]))}`,
      ).toBe(true);
    // kubectl get machines says so: every Machine's phase is Ready.
    await eventually(
      'every Machine in phase Ready',
      async () => (await client.list(machineType)).items.every((m) => m.status?.phase === 'Ready'),
      60_000,
    );
    joined = true;
  });

  it('runs a Deployment of three replicas guarded by a PodDisruptionBudget (minAvailable 2) on them', async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    const labels = { app: APP };
    await client.create(pdbType, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: APP, namespace: 'default' },
      spec: { minAvailable: 2, selector: { matchLabels: labels } },
    });
    await client.create(deploymentType, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: APP, namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'sleep',
                image: 'kok.dev/test/busybox:1',
                imagePullPolicy: 'Never',
                command: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"],
              },
            ],
          },
        },
      },
    });
    // A node daemon too, as every real cluster runs (log shippers, CNI agents): drains leave its pods in place.
    await client.create(daemonSetType, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: DAEMON_MARKER, namespace: 'kube-system' },
      spec: {
        selector: { matchLabels: { app: DAEMON_MARKER } },
        template: {
          metadata: { labels: { app: DAEMON_MARKER } },
          spec: {
            terminationGracePeriodSeconds: 2,
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'daemon',
                image: 'kok.dev/test/busybox:1',
                imagePullPolicy: 'Never',
                command: ['/bin/sh', '-c', 'while :; do sleep 1; done', DAEMON_MARKER],
              },
            ],
          },
        },
      },
    });
    await eventually(
      'three available replicas and the daemon ready on every host',
      async () =>
        (await client.get(deploymentType, { name: APP, namespace: 'default' })).status?.availableReplicas ===
          3 &&
        (await client.get(daemonSetType, { name: DAEMON_MARKER, namespace: 'kube-system' })).status
          ?.numberReady === HOSTS.length,
      120_000,
      { intervalMs: 500, context: hostContext },
    );
  });

  it('rolls every host to the next kubelet minor and containerd version under running pods, the canary first, draining them by Eviction', async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    let minAvailable = Number.POSITIVE_INFINITY;
    let samples = 0;
    const sampler = setInterval(() => {
      void client
        .get(deploymentType, { name: APP, namespace: 'default' })
        .then((d) => {
          samples++;
          minAvailable = Math.min(minAvailable, d.status?.availableReplicas ?? 0);
        })
        .catch(() => undefined);
    }, 250);
    // Every pod that leaves is recorded with its last state: an evicted pod carries DisruptionTarget/EvictionByEvictionAPI.
    const gone: V1Pod[] = [];
    const pods = new Informer<V1Pod>({ client, type: builtinTypes.pod, namespace: 'default' });
    pods.addEventHandler({
      onUpdate: (_old, pod) => {
        if (pod.metadata?.deletionTimestamp && !gone.some((p) => p.metadata?.uid === pod.metadata?.uid))
          gone.push(pod);
      },
    });
    pods.start();
    // When each machine's update began (its Node cordoned or its Machine told the new revision) and when its
    // Node first reported the new kubelet: the pool's canary wave (count 1) must finish before the next starts.
    const oldRevision = templateRevision(template('old'));
    const newKubelet = versions.kubelet.at(-1);
    const startedAt = new Map<string, number>();
    const upgradedAt = new Map<string, number>();
    const started = (name: string) => {
      if (HOSTS.includes(name) && !startedAt.has(name)) startedAt.set(name, Date.now());
    };
    const nodeWatch = new Informer<V1Node>({ client, type: builtinTypes.node });
    const noteNode = (node: V1Node) => {
      const name = node.metadata?.name ?? '';
      if (node.spec?.unschedulable) started(name);
      if (node.status?.nodeInfo?.kubeletVersion === newKubelet && !upgradedAt.has(name)) {
        started(name);
        upgradedAt.set(name, Date.now());
      }
    };
    nodeWatch.addEventHandler({ onAdd: noteNode, onUpdate: (_old, node) => noteNode(node) });
    const machineWatch = new Informer<MachineObject>({ client, type: machineType });
    const noteMachine = (machine: MachineObject) => {
      if (machine.spec?.revision !== undefined && machine.spec.revision !== oldRevision)
        started(machine.metadata?.name ?? '');
    };
    machineWatch.addEventHandler({ onAdd: noteMachine, onUpdate: (_old, machine) => noteMachine(machine) });
    nodeWatch.start();
    machineWatch.start();
    expect(await nodeWatch.waitForSync()).toBe(true);
    expect(await machineWatch.waitForSync()).toBe(true);
    expect(startedAt.size, 'a machine was updating before the rollout').toBe(0);
    // A problem logged on the last host: its Node fails the pool's health gate, so it takes the one place in
    // maxUnavailable and the rollout holds until node-problem-detector is restarted there (how its log
    // monitor clears the condition).
    const sick = HOSTS.at(-1) as string;
    appendFileSync(
      cluster.rig.host(sick).path(NODE_PATHS.problemLog),
      `${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')} KOK-PROBLEM: disk is failing\n`,
    );
    await eventually(
      `${sick}'s Node to report the problem`,
      async () =>
        (await client.get(builtinTypes.node, { name: sick })).status?.conditions?.some(
          (c) => c.type === HOST_PROBLEM_CONDITION && c.status === 'True',
        ),
      60_000,
      { intervalMs: 250, context: hostContext },
    );
    const began = Date.now();
    try {
      await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
        spec: { template: template('new') },
      });
      const gateUnmet = `${sick} (health gate ${HOST_PROBLEM_CONDITION}=False not met`;
      await eventually(
        `the pool to say ${gateUnmet}`,
        async () => (await getPool()).status?.conditions?.some((c) => c.message.includes(gateUnmet)),
        60_000,
        { intervalMs: 250, context: () => JSON.stringify(startedAt) },
      );
      await sleep(5_000);
      expect([...startedAt.keys()], 'machines began while the health gate held the rollout').toEqual([]);
      const held = Date.now() - began;
      const restarted = ((await client.get(machineType, { name: sick })).spec?.restartGeneration ?? 0) + 1;
      await client.patch(machineType, { name: sick }, PatchType.merge, {
        spec: { restartGeneration: restarted, restartComponent: COMPONENT_NAMES.nodeProblemDetector },
      });
      console.log(`[real-hosts] the health gate held the rollout ${(held / 1000).toFixed(1)} s`);
      await settledAt('new', 600_000);
    } finally {
      clearInterval(sampler);
      await Promise.all([pods.stop(), nodeWatch.stop(), machineWatch.stop()]);
    }
    const order = [...startedAt].sort(([, a], [, b]) => a - b);
    const timeline = order
      .map(
        ([name, at]) =>
          `${name} began +${at - began} ms, new kubelet +${(upgradedAt.get(name) ?? NaN) - began} ms`,
      )
      .join('; ');
    console.log(`[real-hosts] rollout order: ${timeline}`);
    expect(order.map(([name]) => name).sort(), timeline).toEqual([...HOSTS].sort());
    const [canary, afterCanary] = order as [[string, number], [string, number]];
    expect(
      upgradedAt.get(canary[0]),
      `the canary ${canary[0]} was not done before ${afterCanary[0]} began: ${timeline}`,
    ).toBeLessThan(afterCanary[1]);
    console.log(
      `[real-hosts] rollout of 3 hosts took ${((Date.now() - began) / 1000).toFixed(1)} s; ${gone.length} pods drained; min available ${minAvailable} in ${samples} samples`,
    );
    for (const node of await nodes())
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toBe(
        `containerd://${versions.containerd.at(-1)?.replace(/^v/, '')}`,
      );
    expect(samples).toBeGreaterThan(20);
    expect(minAvailable).toBeGreaterThanOrEqual(2);
    expect(gone.length).toBeGreaterThan(0);
    for (const pod of gone)
      expect(
        pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason,
        `pod ${pod.metadata?.name} left without an eviction`,
      ).toBe('EvictionByEvictionAPI');
    await eventually(
      'three available replicas again',
      async () =>
        (await client.get(deploymentType, { name: APP, namespace: 'default' })).status?.availableReplicas ===
        3,
      120_000,
    );
  });

  it('reports a problem logged on one host as its Node condition (node-problem-detector); a RemediationPolicy restarts the component and the condition clears', async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    const sick = 'rh-1';
    const condition = (node: V1Node | undefined) =>
      node?.status?.conditions?.find((c) => c.type === HOST_PROBLEM_CONDITION);
    await eventually(
      'every Node to carry the problem detector condition, False',
      async () => (await nodes()).every((n) => condition(n)?.status === 'False'),
      60_000,
      { intervalMs: 500, context: hostContext },
    );
    await client.create(remediationPolicyType, {
      apiVersion: remediationPolicyType.apiVersion,
      kind: remediationPolicyType.kind,
      metadata: { name: 'host-problems' },
      spec: {
        selector: { matchLabels: { [POOL_LABEL]: POOL } },
        unhealthyConditions: [{ type: HOST_PROBLEM_CONDITION, status: 'True', duration: '5s' }],
        actions: [
          { type: 'RestartComponent', component: COMPONENT_NAMES.nodeProblemDetector, timeout: '2m' },
        ],
      },
    });
    const host = cluster.rig.host(sick);
    appendFileSync(
      host.path(NODE_PATHS.problemLog),
      `${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')} KOK-PROBLEM: disk is failing\n`,
    );
    let sawProblem = false;
    await eventually(
      `${sick} to report the problem and be remediated`,
      async () => {
        const node = await client.get(builtinTypes.node, { name: sick });
        sawProblem ||= condition(node)?.status === 'True';
        const machine = await client.get(machineType, { name: sick });
        return (
          sawProblem &&
          condition(node)?.status === 'False' &&
          machine.status?.lastOperation?.type === 'Restart' &&
          machine.status.lastOperation.state === 'Succeeded'
        );
      },
      120_000,
      { intervalMs: 250, context: hostContext },
    );
    // Only the sick host was touched.
    for (const name of HOSTS.filter((h) => h !== sick))
      expect((await client.get(machineType, { name })).status?.lastOperation?.type).not.toBe('Restart');
    // Deleting the policy (even mid-remediation) lets the machine go: it holds no place in the pool's budget.
    await client.delete(remediationPolicyType, { name: 'host-problems' });
    await eventually(
      `${sick} out of remediation`,
      async () =>
        findCondition((await client.get(machineType, { name: sick })).status?.conditions, 'Remediating')
          ?.status === 'False',
      30_000,
    );
  });

  it('fails the canary on a kubelet that exits, pauses the pool and rolls it back: the host runs its kubelet again', async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    // Whole seconds: the apiserver keeps condition times to the second.
    const brokenAt = Math.floor(Date.now() / 1000) * 1000;
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: { template: template('broken') },
    });
    // The agent's view reaches the Node: the failed kubelet shows as KokComponentFailed (sampled meanwhile).
    const componentFailed = new Set<string>();
    const pool = await eventually(
      'the pool to roll the broken revision back',
      async () => {
        for (const node of await nodes())
          if (node.status?.conditions?.some((c) => c.type === 'KokComponentFailed' && c.status === 'True'))
            componentFailed.add(node.metadata?.name ?? '');
        const p = await getPool();
        return findCondition(p.status?.conditions, NodePoolConditions.RolledBack)?.status === 'True'
          ? p
          : undefined;
      },
      300_000,
      { intervalMs: 250, context: hostContext },
    );
    expect(findCondition(pool.status?.conditions, NodePoolConditions.Paused)?.status).toBe('True');
    const message = findCondition(pool.status?.conditions, NodePoolConditions.RolledBack)?.message ?? '';
    const failed = HOSTS.filter((name) => new RegExp(`\\b${name}\\b`).test(message));
    expect(failed, message).toHaveLength(1);
    // Only the failed host's Node ever showed it.
    expect(failed).toEqual(expect.arrayContaining([...componentFailed]));
    await settledAt('new', 240_000);
    const recovered = await eventually(
      'KokComponentFailed False on every Node once the old kubelet runs again',
      async () => {
        const all = await nodes();
        return all.every((n) =>
          n.status?.conditions?.some((c) => c.type === 'KokComponentFailed' && c.status === 'False'),
        )
          ? all
          : undefined;
      },
      60_000,
    );
    // The failed host's Node showed it: seen True by the sampling, or (when the rollback was quicker than a
    // sample) False again with a transition after the broken revision went out, which means True in between.
    for (const name of failed) {
      const condition = recovered
        .find((n) => n.metadata?.name === name)
        ?.status?.conditions?.find((c) => c.type === 'KokComponentFailed');
      const transitionedSince = Date.parse(String(condition?.lastTransitionTime ?? '')) >= brokenAt;
      expect(componentFailed.has(name) || transitionedSince, `KokComponentFailed on ${name}`).toBe(true);
    }
  });

  it('scales in: a deleted Machine is drained, its host runs none of its software, its Node is gone', async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    // The host running most of the Deployment's pods, so that leaving means draining real pods.
    const running = (await client.list(builtinTypes.pod, { namespace: 'default' })).items.map(
      (p) => p.spec?.nodeName,
    );
    const leaving = [...HOSTS].sort(
      (a, b) => running.filter((n) => n === b).length - running.filter((n) => n === a).length,
    )[0] as string;
    expect(running).toContain(leaving);
    remaining = HOSTS.filter((h) => h !== leaving);
    const host = cluster.rig.host(leaving);
    await eventually(
      `Machine ${leaving} to carry the node-operator's finalizer`,
      async () =>
        (await client.get(machineType, { name: leaving })).metadata?.finalizers?.includes(Finalizers.machine),
      30_000,
      { context: () => operatorLogTail() },
    );
    // What runs there has mounts below the host's root (pod volumes, container root filesystems), in the
    // host's mount namespace, where its root is ROOT_IN_HOST: they must be gone with the host's software.
    const hostMounts = () => [
      ...new Set(
        host.cgroups.pids().flatMap((pid) => {
          try {
            return mountsUnder(ROOT_IN_HOST, readFileSync(`/proc/${pid}/mountinfo`, 'utf8')).filter(
              (point) => point !== ROOT_IN_HOST,
            );
          } catch {
            return []; // exited meanwhile
          }
        }),
      ),
    ];
    expect(hostMounts().length, 'mounts of the running pods').toBeGreaterThan(0);
    await client.delete(machineType, { name: leaving });
    let decommissioned = false;
    await eventually(
      `Machine ${leaving} to be gone`,
      async () => {
        const machine = await client.get(machineType, { name: leaving }).catch((error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw error;
        });
        decommissioned ||= findCondition(machine?.status?.conditions, 'Decommissioned')?.status === 'True';
        return machine === undefined;
      },
      180_000,
      { intervalMs: 200, context: hostContext },
    );
    // It left through the whole sequence: drained, its agent removed the software (it may all take less than
    // one poll, so the agent's Event is the record), then the operator deleted the Node.
    const reasons = (await client.list(builtinTypes.event)).items
      .filter((e) => e.regarding?.name === leaving && e.regarding.kind === 'Machine')
      .map((e) => e.reason);
    expect(decommissioned || reasons.includes('Decommissioned'), reasons.join(', ')).toBe(true);
    expect(reasons).toContain('NodeDeleted');
    // containerd's beforeRemoval ran, and found nothing it could not remove.
    expect(reasons).not.toContain('BeforeRemovalFailed');
    expect(host.logTail(200)).toContain(
      '"component":"containerd","msg":"decommissioning: beforeRemoval done"',
    );
    expect(
      await client.get(builtinTypes.node, { name: leaving }).then(
        () => false,
        (error: unknown) => isNotFound(error),
      ),
    ).toBe(true);
    // Nothing kok installed is left on the host, and only its agent still runs there.
    expect(readdirSync(host.path('/opt/kok'))).toEqual([]);
    // Nor what that software kept (its Components' dataPaths: containerd's root and state, the kubelet's root
    // and cert dirs, its kubeconfig) or the configuration files the agent wrote from the Machine spec.
    const keptPaths = [
      ...CONTAINERD_DATA_PATHS,
      ...KUBELET_DATA_PATHS,
      ...(template('new').files ?? []).map((f) => f.path),
    ].filter((path) => existsSync(host.path(path)));
    expect(keptPaths, host.logTail(30)).toEqual([]);
    expect(hostMounts(), host.logTail(30)).toEqual([]);
    const commands = host.cgroups
      .pids()
      .map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    // By executable: the agent's own arguments name the kubelet's bootstrap kubeconfig. The daemon's
    // containers and their shims are gone too: containerd's beforeRemoval removed them before it stopped.
    expect(
      commands.filter(
        ([executable = '', ...args]) =>
          /kubelet|containerd/.test(basename(executable)) || args.includes(DAEMON_MARKER),
      ),
      `${commands.map((c) => c.join(' ')).join('\n')}\n--- agent log:\n${host.logTail(30)}`,
    ).toEqual([]);
    // Its pods run elsewhere, and the pool counts one machine fewer.
    await eventually(
      'three available replicas on the remaining hosts',
      async () => {
        const pods = (await client.list(builtinTypes.pod, { namespace: 'default' })).items;
        const deployment = await client.get(deploymentType, { name: APP, namespace: 'default' });
        return deployment.status?.availableReplicas === 3 && pods.every((p) => p.spec?.nodeName !== leaving);
      },
      120_000,
    );
    await eventually(
      'the pool to count 2 machines',
      async () => (await getPool()).status?.machines === 2,
      30_000,
    );
    // Its agent's certificate is still valid, but its grant is gone: it opens neither the Machine's name
    // (403, not 404) nor the node files.
    const leftConfig = new KubeConfig();
    leftConfig.loadFromFile(host.path(AGENT_KUBECONFIG));
    const left = new KubeClient(leftConfig, { fieldManager: 'kok-node-agent' });
    try {
      expect(await left.get(machineType, { name: leaving }).catch((error: unknown) => error)).toBeInstanceOf(
        ForbiddenError,
      );
      expect(
        await left
          .list(builtinTypes.secret, { namespace: 'kok-node-files', fieldSelector: 'metadata.name=any' })
          .catch((error: unknown) => error),
      ).toBeInstanceOf(ForbiddenError);
    } finally {
      left.close();
    }
    await cluster.removeHost(leaving);
  });

  it("refuses an agent's own certificate on another host's Machine, reading or writing (403 from the apiserver)", async () => {
    expect(joined, 'the hosts never joined').toBe(true);
    const config = new KubeConfig();
    const [mine, theirs] = remaining as [string, string];
    // The certificate the agent was issued by its CSR, as it keeps it on its host.
    config.loadFromFile(cluster.rig.host(mine).path(AGENT_KUBECONFIG));
    const agent = new KubeClient(config, { fieldManager: 'kok-node-agent' });
    const own = await agent.patch(
      machineType,
      { name: mine },
      PatchType.merge,
      { status: { agent: { version: '0.0.1-e2e' } } },
      { subresource: 'status' },
    );
    expect(own.metadata?.name).toBe(mine);
    const other = await agent
      .patch(
        machineType,
        { name: theirs },
        PatchType.merge,
        { status: { agent: { version: '0.0.1-e2e' } } },
        { subresource: 'status' },
      )
      .catch((error: unknown) => error);
    expect(other).toBeInstanceOf(ForbiddenError);
    expect(await agent.get(machineType, { name: theirs }).catch((error: unknown) => error)).toBeInstanceOf(
      ForbiddenError,
    );
    agent.close();
  });
  it('tears down to nothing: no process, mount, namespace, link, cgroup or iptables rule of the hosts is left', async () => {
    // What the real software made is there to be undone: containerd's shims, the pods' cgroups below each
    // host's cgroup root, the pods' network namespaces and overlay and tmpfs mounts in the agents' mount
    // namespaces (seen through the hosts' processes), the rig's namespaces and veths.
    const during = await snapshotMachine();
    const owned = (entry: string) => cluster.rig.owns(entry);
    const ofHosts = (kind: keyof MachineSnapshot) => during[kind].filter(owned);
    expect(ofHosts('processes').some((p) => p.includes('containerd-shim-runc-v2'))).toBe(true);
    expect(ofHosts('cgroups').some((c) => c.includes('/kubepods'))).toBe(true);
    expect(ofHosts('namespaces').length).toBe(remaining.length);
    expect(ofHosts('links').length).toBeGreaterThan(remaining.length); // the bridge and a veth per host
    const hostMountKinds = new Set<string>();
    const podNamespaces = new Set<string>();
    for (const name of remaining) {
      const host = cluster.rig.host(name);
      // Through every process of the host: the agent's mount namespace holds the runtime's and the kubelet's mounts.
      for (const pid of host.cgroups.pids()) {
        let mountinfo: string;
        try {
          mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
        } catch {
          continue; // exited meanwhile
        }
        for (const line of mountinfo.split('\n')) {
          const point = line.split(' ')[4] ?? '';
          const type = line.split(' - ')[1]?.split(' ')[0] ?? '';
          if (point.startsWith(`${ROOT_IN_HOST}/`)) hostMountKinds.add(type);
          if (point.startsWith('/run/netns/cni-')) podNamespaces.add(`${name}:${point}`);
        }
      }
    }
    expect([...hostMountKinds]).toEqual(expect.arrayContaining(['overlay', 'tmpfs']));
    expect(podNamespaces.size).toBeGreaterThan(0);
    // None of it is seen on the machine itself: the hosts' mounts stay in their own mount namespaces (the
    // machine sees only the rig's network namespaces, bound under /run/netns).
    expect(ofHosts('mounts').filter((m) => m.startsWith(cluster.rig.dir))).toEqual([]);

    const began = Date.now();
    await teardown();
    const after = await snapshotMachine();
    console.log(`[real-hosts] teardown took ${((Date.now() - began) / 1000).toFixed(1)} s`);
    expect(leftovers(machineBefore as MachineSnapshot, after, owned)).toEqual({});
    // Not one process of the hosts runs on (the shims and containers neither), so no mount namespace of theirs
    // is left either; and no cgroup below the rig's.
    const hostProcesses = new Set(ofHosts('processes'));
    expect(after.processes.filter((p) => hostProcesses.has(p))).toEqual([]);
    expect(after.cgroups.filter((c) => c.includes(cluster.rig.cgroupParent))).toEqual([]);
  });
});
