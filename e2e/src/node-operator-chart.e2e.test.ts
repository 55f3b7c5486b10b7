/**
 * The node-operator chart installed by helm into a cluster of real hosts: the
 * operator runs from its image, and the node-agent DaemonSet takes each host
 * over from the agent its provisioner started there, driving the host's
 * services through the host's namespaces (its PID 1's mount namespace and
 * cgroups), not its container's. Two hosts of the host rig boot with nothing
 * but a node-agent, as in real-hosts.e2e.test.ts; kube-proxy (the operator's
 * own renderer) gives pods the `kubernetes` Service; our images, packed here,
 * are imported on the hosts as a registry mirror would serve them.
 *
 * In order:
 *   1. helm install: the operator's pod runs from its image; each host's agent pod takes the host over from
 *      the bootstrap agent, which stands by, and adopts containerd and the kubelet without restarting them;
 *   2. a NodePool change is rolled out by the chart's operator and the DaemonSet agents: the kubelet they
 *      restart reads the new configuration and runs in the host's mount, IPC and cgroup namespaces and
 *      cgroups, and it outlives its agent's pod, whose replacement takes the host over again (the bootstrap
 *      agent does not take it in between);
 *   3. helm uninstall: no agent or operator container is left, and each bootstrap agent takes its host
 *      back and converges it again;
 *   4. teardown leaves nothing on the machine.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { componentType, machineType, NODES_GROUP, nodePoolType, templateRevision } from '@kok/api';
import type { MachineObject, NodePoolObject, NodePoolTemplate } from '@kok/api';
import { kubeProxyObjects } from '@kok/cluster-addons';
import { pinnedImageInputs } from '@kok/container-meta';
import type { MachineSnapshot, RealHost, RealHostCluster } from '@kok/host-rig';
import {
  leftovers,
  NODE_PATHS,
  realHostDisruptionPolicy,
  realHostSupport,
  realHostTemplate,
  ROOT_IN_HOST,
  snapshotMachine,
  startRealHostCluster,
} from '@kok/host-rig';
import { packKokImage } from '@kok/images';
import type { KokImageName } from '@kok/images';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { eventually, freePort, installCrds } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeAgentCommand } from '../../apps/node-agent/bundle.ts';
import { stopProcess } from '../../apps/node-agent/src/fixtures/agent-hosts.ts';
import { installAgentAccess } from './support/agent-access.ts';
import { startOperatorProcess } from './support/operator-process.ts';

const HOSTS = ['chart-0', 'chart-1'];
const POOL = 'chart-hosts';
const RELEASE = 'nodes';
const RELEASE_NAMESPACE = 'kok-system';
const AGENT_POD_SELECTOR = 'app.kubernetes.io/component=node-agent';
const CHART = new URL('../../charts/node-operator', import.meta.url).pathname;

const support = realHostSupport();
// Under CI the real path must run: a machine that cannot run it fails the suite instead of skipping it.
const runsHere = support.supported || process.env.CI === 'true';

let cluster: RealHostCluster;
let machineBefore: MachineSnapshot | undefined;
let client: KubeClient;
let operator: ChildProcess | undefined;
let kubelet: string;
let stopped = false;
/** The scenarios build on the first; the later ones fail at once without it instead of timing out. */
let installed = false;
const images = new Map<KokImageName, string>();
/** Each host's bootstrap agent, as its host's PID namespace numbers it. */
const bootstrapAgents = new Map<string, AgentRecord>();

interface AgentRecord {
  pid: number;
  startTime: string;
}

const isReady = (node: V1Node) =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const podReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function template(maxPods?: number): NodePoolTemplate {
  const base = realHostTemplate({
    kubelet,
    containerd: cluster.versions.containerd[0] as string,
    imageVersions: cluster.software.imageVersions,
    cgroupParent: cluster.rig.cgroupParent,
    kubeProxy: kubelet,
  });
  if (maxPods === undefined) return base;
  return {
    ...base,
    files: base.files?.map((file) =>
      file.path === NODE_PATHS.kubeletConfig
        ? { ...file, content: `${file.content ?? ''}maxPods: ${maxPods}\n` }
        : file,
    ),
  };
}

const host = (name: string): RealHost => cluster.rig.host(name);

/** A JSON record the agents keep in their run directory, or undefined. */
function runRecord(name: string, file: string): AgentRecord | undefined {
  const path = host(name).path(`/run/kok/${file}`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as AgentRecord) : undefined;
}

const sameRecord = (a: AgentRecord | undefined, b: AgentRecord | undefined) =>
  a !== undefined && b !== undefined && a.pid === b.pid && a.startTime === b.startTime;

/** The pid file of a supervised service: its pid in the host's PID namespace and its start time. */
function servicePid(name: string, service: string): AgentRecord {
  const record = JSON.parse(readFileSync(host(name).path(`/run/kok/${service}.pid`), 'utf8')) as AgentRecord;
  return { pid: record.pid, startTime: record.startTime };
}

/** The machine's pid of a process of host `name`, by the pid its host's PID namespace gives it. */
function machinePid(name: string, hostPid: number): number {
  const pid = host(name).machinePid(hostPid);
  if (pid === undefined) throw new Error(`host ${name} runs no process ${hostPid}`);
  return pid;
}

function memoryCgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1] === 'memory');
  return line?.split(':')[2] ?? '';
}

/** `ctr` of host `name`, in containerd's k8s.io namespace. */
function ctr(name: string, ...args: string[]): string {
  const root = host(name).root;
  return execFileSync(
    join(root, NODE_PATHS.containerd, 'ctr'),
    ['--address', `${root}/run/containerd/containerd.sock`, '-n', 'k8s.io', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** The images of host `name`'s running containers. */
function runningImages(name: string): string[] {
  const running = new Set(
    ctr(name, 'tasks', 'ls')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(([, , status]) => status === 'RUNNING')
      .map(([id]) => id),
  );
  return ctr(name, 'containers', 'ls')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([id]) => running.has(id))
    .map(([, image]) => image as string);
}

async function agentPods(): Promise<V1Pod[]> {
  return (
    await client.list(builtinTypes.pod, { namespace: RELEASE_NAMESPACE, labelSelector: AGENT_POD_SELECTOR })
  ).items as V1Pod[];
}

/** The logs of the agent pods on host `name` (every container instance so far). */
function agentPodLogs(name: string): string {
  const dir = host(name).path('/var/log/pods');
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.startsWith(`${RELEASE_NAMESPACE}_${RELEASE}-agent-`) && file.endsWith('.log'))
    .map((file) => readFileSync(join(dir, file), 'utf8'))
    .join('\n');
}

/** The release's pods as last listed: phase, and why each container waits or ended. */
let releasePods = '';

async function listReleasePods(): Promise<V1Pod[]> {
  const pods = (await client.list(builtinTypes.pod, { namespace: RELEASE_NAMESPACE })).items as V1Pod[];
  releasePods = pods
    .map((pod) => {
      const states = (pod.status?.containerStatuses ?? []).map((c) => {
        const why = c.state?.waiting ?? c.state?.terminated ?? c.lastState?.terminated;
        return `${c.name} ready=${String(c.ready)} restarts=${c.restartCount}${why ? ` ${JSON.stringify(why)}` : ''}`;
      });
      return `${pod.metadata?.name} on ${pod.spec?.nodeName ?? '-'}: ${pod.status?.phase} ${states.join('; ')}`;
    })
    .join('\n');
  return pods;
}

function context(): string {
  return (
    `--- pods of the release:\n${releasePods}\n` +
    HOSTS.map(
      (name) =>
        `--- ${name} bootstrap agent:\n${host(name).logTail(12)}\n--- ${name} agent pods:\n` +
        agentPodLogs(name).split('\n').slice(-20).join('\n'),
    ).join('\n')
  );
}

async function settledAt(revision: string, timeoutMs: number): Promise<void> {
  let poolStatus = '';
  await eventually(
    `every host at revision ${revision}, Ready and schedulable`,
    async () => {
      const pool = (await client.get(nodePoolType, { name: POOL })) as NodePoolObject;
      poolStatus = JSON.stringify(
        pool.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      );
      const machines = (await client.list(machineType)).items;
      const nodes = (await client.list(builtinTypes.node)).items as V1Node[];
      return (
        pool.status?.currentRevision === revision &&
        machines.every((m) => m.status?.revision?.current === revision) &&
        nodes.length === HOSTS.length &&
        nodes.every((n) => isReady(n) && !n.spec?.unschedulable)
      );
    },
    timeoutMs,
    { intervalMs: 500, context: () => `--- pool: ${poolStatus}\n${context()}` },
  );
}

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  cluster = await startRealHostCluster({
    agentCommand: await nodeAgentCommand(),
    agentArgs: ['--http-port', '0', '--resync-seconds', '30'],
    setup: async (admin, controlPlane) => {
      await installCrds(admin, NODES_GROUP);
      // What the bootstrap agents (system:node-agent:<name>) may do. The chart gives its own agents theirs.
      await installAgentAccess(controlPlane.kubeConfig);
    },
  });
  kubelet = cluster.versions.kubelet.at(-1) as string;
  client = new KubeClient(cluster.controlPlane.kubeConfig, { fieldManager: 'kok-e2e', qps: 100, burst: 200 });
  await eventually('the nodes.kok.dev CRDs to be served', async () => {
    await client.list(nodePoolType, { limit: 1 });
    return true;
  });
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
      template: template(),
      rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } }, maxFailed: 0 },
      drain: { timeoutSeconds: 120 },
      disruptionPolicy: realHostDisruptionPolicy(),
    },
  } as NodePoolObject);
  // Until the chart's operator replaces it: it approves the bootstrap agents' certificates.
  operator = startOperatorProcess({
    kubeconfigPath: cluster.controlPlane.kubeconfigPath,
    metricsPort: await freePort(),
    logFile: join(cluster.rig.dir, 'logs', 'node-operator.log'),
  });
  for (const name of HOSTS) {
    await client.create(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name },
      spec: {
        pool: POOL,
        address: cluster.nextAddress(),
        revision: templateRevision(template()),
        ...template(),
      },
    } as MachineObject);
    await cluster.addHost(name);
  }
  await settledAt(templateRevision(template()), 300_000);
  // kube-proxy, as the kube-on-kube-operator deploys it into a Cluster: pods reach the apiserver by its Service.
  const objects = KubernetesObjectApi.makeApiClient(cluster.controlPlane.kubeConfig);
  const addonCluster = {
    version: kubelet,
    network: { podCIDR: cluster.rig.network.podCidr, dnsDomain: 'cluster.local' },
  };
  for (const manifest of kubeProxyObjects(addonCluster, cluster.controlPlane.server))
    await objects.create(manifest as KubernetesObject);
  // Our images, imported on every host as a registry mirror would serve them.
  const dir = join(cluster.rig.dir, 'images');
  mkdirSync(dir, { recursive: true });
  for (const name of ['node-operator', 'node-agent'] as const) {
    const image = packKokImage(name, pinnedImageInputs());
    images.set(name, image.reference);
    const file = join(dir, `${name}.oci.tar`);
    writeFileSync(file, image.tarball);
    for (const each of HOSTS) ctr(each, 'images', 'import', file);
  }
  await eventually(
    'kube-proxy Ready on every host',
    async () => {
      const pods = (
        await client.list(builtinTypes.pod, { namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' })
      ).items as V1Pod[];
      return pods.length === HOSTS.length && pods.every(podReady);
    },
    120_000,
    { intervalMs: 500, context },
  );
}, 900_000);

async function teardown(): Promise<void> {
  if (stopped) return;
  stopped = true;
  if (operator) await stopProcess(operator);
  await cluster?.stop();
}

afterAll(teardown, 180_000);

describe.runIf(runsHere)('the node-operator chart, installed by helm on real hosts', () => {
  it('runs the operator from its image, and each agent pod takes its host over, adopting its services', async () => {
    for (const name of HOSTS) {
      const holder = runRecord(name, 'agent-owner.json');
      expect(holder, `${name}'s bootstrap agent holds its host`).toBeDefined();
      bootstrapAgents.set(name, holder as AgentRecord);
    }
    const servicesBefore = new Map(
      HOSTS.map((name) => [name, [servicePid(name, 'containerd'), servicePid(name, 'kubelet')]]),
    );
    // The chart's operator takes over from the process.
    if (operator) await stopProcess(operator);
    operator = undefined;
    const began = Date.now();
    cluster.helm(
      'install',
      RELEASE,
      CHART,
      ...['-n', RELEASE_NAMESPACE, '--create-namespace'],
      // Only what the hosts have: no registry is reachable from here.
      ...['--set', 'image.pullPolicy=Never', '--set', 'agent.image.pullPolicy=Never'],
      // The rig's hosts run no systemd, and each sees its root where the rig bound it.
      ...['--set', 'agent.serviceManager=supervisor', '--set', `agent.hostRoot=${ROOT_IN_HOST}`],
    );
    await eventually(
      'the operator and an agent on every host Ready',
      async () => {
        const pods = await listReleasePods();
        const component = (pod: V1Pod) => pod.metadata?.labels?.['app.kubernetes.io/component'];
        const operatorPods = pods.filter((pod) => component(pod) === 'operator');
        const agents = pods.filter((pod) => component(pod) === 'node-agent');
        return (
          operatorPods.length === 2 &&
          operatorPods.every(podReady) &&
          agents.length === HOSTS.length &&
          agents.every(podReady)
        );
      },
      180_000,
      { intervalMs: 500, context },
    );
    for (const name of HOSTS) {
      // Containers of our images, started by the host's containerd.
      expect(runningImages(name)).toContain(images.get('node-agent'));
      await eventually(
        `${name}: the agent pod holds the host, the bootstrap agent stands by`,
        () => {
          const holder = runRecord(name, 'agent-owner.json');
          return (
            holder !== undefined &&
            !sameRecord(holder, bootstrapAgents.get(name)) &&
            sameRecord(runRecord(name, 'agent-standby.json'), bootstrapAgents.get(name)) &&
            agentPodLogs(name).includes('took over running services')
          );
        },
        60_000,
        { intervalMs: 500, context },
      );
      expect(host(name).logTail(50)).toContain('another node agent took this host over; standing by');
      // Adopted, not restarted: the same processes as before the install.
      expect([servicePid(name, 'containerd'), servicePid(name, 'kubelet')]).toEqual(servicesBefore.get(name));
    }
    console.log(
      `[node-operator-chart] helm install to every host held by its agent pod, services adopted: ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
    expect(
      HOSTS.flatMap((name) => runningImages(name)).filter((image) => image === images.get('node-operator')),
    ).toHaveLength(2);
    installed = true;
  });

  it('rolls a NodePool change out through the agent pods: the kubelet they restart is the host’s and outlives them', async () => {
    expect(installed, 'the chart is installed').toBe(true);
    const kubeletsBefore = new Map(HOSTS.map((name) => [name, servicePid(name, 'kubelet')]));
    const changed = template(99);
    const began = Date.now();
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, { spec: { template: changed } });
    await settledAt(templateRevision(changed), 300_000);
    console.log(
      `[node-operator-chart] rollout of ${HOSTS.length} hosts by the chart's operator and agent pods: ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
    for (const name of HOSTS) {
      const node = (await client.get(builtinTypes.node, { name })) as V1Node;
      // The restarted kubelet read the new configuration.
      expect(node.status?.capacity?.['pods']).toBe('99');
      const restarted = servicePid(name, 'kubelet');
      expect(restarted.pid).not.toBe(kubeletsBefore.get(name)?.pid);
      // In the host's mount, IPC and cgroup namespaces and cgroups (those of its PID 1), not the agent pod's.
      const kubeletPid = machinePid(name, restarted.pid);
      const initPid = machinePid(name, 1);
      for (const namespace of ['mnt', 'ipc', 'cgroup'])
        expect(readlinkSync(`/proc/${kubeletPid}/ns/${namespace}`), namespace).toBe(
          readlinkSync(`/proc/${initPid}/ns/${namespace}`),
        );
      expect(memoryCgroupOf(kubeletPid)).toBe(memoryCgroupOf(initPid));
      expect(memoryCgroupOf(kubeletPid)).not.toContain('kubepods');
    }

    // The agent's pod goes; the kubelet it started stays, and the pod that replaces it takes the host over.
    const [name] = HOSTS as [string];
    const kubeletNow = servicePid(name, 'kubelet');
    const holderBefore = runRecord(name, 'agent-owner.json');
    const bootstrapHeld = () =>
      host(name).logTail(Number.MAX_SAFE_INTEGER).split('this node agent holds the host').length;
    const bootstrapHeldBefore = bootstrapHeld();
    const pod = (await agentPods()).find((p) => p.spec?.nodeName === name) as V1Pod;
    await client.delete(builtinTypes.pod, {
      namespace: RELEASE_NAMESPACE,
      name: pod.metadata?.name as string,
    });
    await eventually(
      `a new agent pod on ${name} holds the host`,
      async () => {
        const replacement = (await agentPods()).find(
          (p) => p.spec?.nodeName === name && p.metadata?.uid !== pod.metadata?.uid,
        );
        const holder = runRecord(name, 'agent-owner.json');
        return (
          replacement !== undefined &&
          podReady(replacement) &&
          holder !== undefined &&
          !sameRecord(holder, holderBefore) &&
          !sameRecord(holder, bootstrapAgents.get(name))
        );
      },
      120_000,
      { intervalMs: 500, context },
    );
    // The bootstrap agent let the pod come back rather than take the host in between.
    expect(bootstrapHeld()).toBe(bootstrapHeldBefore);
    expect(servicePid(name, 'kubelet')).toEqual(kubeletNow);
    expect(existsSync(`/proc/${machinePid(name, kubeletNow.pid)}`)).toBe(true);
    expect(isReady((await client.get(builtinTypes.node, { name })) as V1Node)).toBe(true);
  });

  it('uninstalls: no agent or operator container is left, and each bootstrap agent takes its host back', async () => {
    expect(installed, 'the chart is installed').toBe(true);
    cluster.helm('uninstall', RELEASE, '-n', RELEASE_NAMESPACE, '--wait', '--timeout', '120s');
    for (const name of HOSTS) {
      await eventually(
        `${name}: no container of ours, and the bootstrap agent holds the host again`,
        () =>
          !runningImages(name).some((image) => [...images.values()].includes(image)) &&
          sameRecord(runRecord(name, 'agent-owner.json'), bootstrapAgents.get(name)) &&
          runRecord(name, 'agent-standby.json') === undefined,
        120_000,
        { intervalMs: 500, context },
      );
    }
    // It converges again: a file put in its Machine's spec (no operator runs now to keep the spec) lands.
    const [name] = HOSTS as [string];
    const machine = (await client.get(machineType, { name })) as MachineObject;
    await client.patch(machineType, { name }, PatchType.merge, {
      spec: {
        files: [
          ...(machine.spec.files ?? []),
          { path: '/etc/kok-e2e/taken-back', mode: 0o644, content: 'the bootstrap agent again\n' },
        ],
      },
    });
    await eventually(
      `${name}'s bootstrap agent wrote the new file`,
      () => {
        const path = host(name).path('/etc/kok-e2e/taken-back');
        return existsSync(path) && readFileSync(path, 'utf8') === 'the bootstrap agent again\n';
      },
      60_000,
      { intervalMs: 500, context },
    );
  });

  it('tears down: nothing of the hosts is left on the machine', async () => {
    const owned = (entry: string) => cluster.rig.owns(entry);
    await teardown();
    const after = await snapshotMachine();
    expect(leftovers(machineBefore as MachineSnapshot, after, owned)).toEqual({});
  });
});
