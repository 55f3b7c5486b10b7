// Rollout efficiency, end to end: how close a NodePool rollout by the node-operator comes to the ideal
// time ⌈N / maxUnavailable⌉ · T when every machine takes T to upgrade. efficiency = ideal / measured
// (1.0 = no time lost to planning, passes, cordons, drains, writes or the client's rate limit).
//
// What runs, for each size, on a control plane of its own (etcd and kube-apiserver):
//  - the node-operator as it ships: `node apps/node-operator/src/main.ts` with its chart's NODE_OPTIONS
//    and default flags (each client starts at QPS 100, burst 200, and rises towards 1,000 while the
//    apiserver refuses nothing; pools planned at most once a second), plus only what
//    the benchmark needs to watch it: its kubeconfig, /metrics on 127.0.0.1 without auth, log level warn;
//  - N Machines with Ready Nodes, one NodePool over them (maxUnavailable 5 % unless --max-unavailable
//    says otherwise, every other rollout field as defaulted), the catalog entry its template names;
//  - for the sizes of --sizes, LOAD GENERATOR, not kok: the agents are simulated
//    (rollout-agent-simulator.ts): one watch over the Machines, one status write per machine T
//    (--upgrade-ms) after it is told a revision;
//  - for the one size of --real-agents: real node-agent processes (node-agent-processes.ts), the agent as it
//    ships (its bundle), one a Machine with its own --root and its own identity (a client certificate for
//    system:node-agent:<machine> under the agent's shipped RBAC and admission policy and its Machine's
//    grant). Told a revision, each downloads the new `payload` archive from a local artifact server,
//    unpacks it, restarts the payload's process under its built-in supervisor and reports, as on a host.
//    T is what they take: the median of each machine's own upgrade time, from a Machine watch's first sight
//    of its spec naming the new revision to its first sight of its status reporting it.
// Timed: from the template change (one patch of the NodePool) until the pool's status names the new
// revision current, every Machine reports it and no Node is cordoned.
//
// Baseline in the same run, on the same apiserver, before the operator starts: a client that only writes
// Machines (creates, 64 in flight, no client rate limit) — the apiserver's write ceiling.
// Reported beside it: the operator's writes during the rollout (the apiserver's count less the agents'
// writes — the simulator counts its own, the real agents' are read from an apiserver audit log that records
// their group's writes only — the apiserver's own and the benchmark's one patch), per machine and per
// second, and the write rate the ideal time would take at that many writes a machine.
//
// Leaves out: in the simulated sizes, any agent (the simulator downloads, installs and restarts nothing, and
// writes once a revision where an agent writes its progress too); in the real-agent size, the rest of a host:
// no kubelet runs (its Node is created Ready and stays so), no container runtime, and the payload is a
// process that only sleeps (a tiny archive, no health check to pass), while the agents share the CPUs of
// the one computer the benchmark runs on; in every size, pods and PDBs (every drain finds nothing to
// evict), leader election, and adoption, which happens before the clock starts (node-scale times it).
//
//   npm run bench -- rollout-efficiency [--sizes=100,1000,10000] [--upgrade-ms=1000] [--real-agents=10]
//     [--max-unavailable=5%] [--ceiling-writes=<n>] [--node-options=<s>]
//   --real-agents=0 leaves the real-agent size out.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  componentType,
  machineType,
  NODE_AGENT_GROUP,
  nodePoolType,
  NODES_GROUP,
  templateRevision,
} from '@kok/api';
import type { MachineObject, NodePoolObject, NodePoolTemplate } from '@kok/api';
import { builtinTypes, forEachLimit, Informer, KubeClient, PatchType } from '@kok/reconcile';
import { resolveMaxUnavailable } from '@kok/rollout';
import { eventually, freePort, installCrds, startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import type { V1Node } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the operator app as it ships
import { parseCommandLine } from '@kok/node-operator/src/command-line.ts';
import {
  auditedRequests,
  requestDelta,
  scrapeRequests,
  total,
  writesAuditPolicy,
} from './apiserver-requests.ts';
import {
  agentKubeconfig,
  createPayloadComponent,
  installAgentAccess,
  nodeAgentCommand,
  PAYLOAD,
  spawnNodeAgent,
  stopNodeAgents,
  type PayloadCatalog,
} from './node-agent-processes.ts';
import { operatorNodeOptions, spawnNodeOperator } from './node-operator-process.ts';
import { processUsage } from './process-usage.ts';
import { metricSum } from './prometheus-text.ts';
import { RolloutAgentSimulator } from './rollout-agent-simulator.ts';
import { median, round } from './statistics.ts';
import { UpgradeClock } from './upgrade-clock.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    'upgrade-ms': { type: 'string', default: '1000' },
    'real-agents': { type: 'string', default: '10' },
    'max-unavailable': { type: 'string', default: '5%' },
    'ceiling-writes': { type: 'string' },
    'node-options': { type: 'string' },
  },
});
/** Pool sizes with simulated agents, one figure each, each on a fresh control plane. */
const sizes = values.sizes.split(',').map(Number);
/** T: the time the simulated agent takes to upgrade one machine. */
const upgradeMs = Number(values['upgrade-ms']);
/** The pool size whose agents are real node-agent processes (0: none). */
const realAgentCount = Number(values['real-agents']);
const maxUnavailable = /^\d+$/.test(values['max-unavailable'])
  ? Number(values['max-unavailable'])
  : values['max-unavailable'];
/** The operator's client limits as shipped, read from its own flag parser (the benchmark passes none). */
const shipped = parseCommandLine([]);
const OLD_KUBELET = 'v1.36.3';
const NEW_KUBELET = 'v1.36.4';
/** The payload versions the real agents go from and to. */
const OLD_PAYLOAD = '1.0.0';
const NEW_PAYLOAD = '2.0.0';
const LABEL = 'kok-bench';
const POOL = 'bench';
const SETUP_CONCURRENCY = 64;
/** Write kinds the apiserver makes by itself (apiserver_request_total's `VERB resource`). */
const APISERVER_OWN_WRITES = /^\S+ (leases|endpoints|endpointslices)$/;
const REAL_AGENTS =
  'real node-agent processes (the shipped bundle, one a Machine, each with its own --root and identity) download, unpack and restart a payload whose run script only sleeps; no kubelet, no pods';

const log = (message: string): void => void process.stderr.write(`[rollout-efficiency] ${message}\n`);
/** @kok/testing's eventually, looking every 50 ms (the rollout's end is read from it). */
const until: typeof eventually = (what, check, timeoutMs, options = 50) =>
  eventually(what, check, timeoutMs, options);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kubelet = (version: string): NodePoolTemplate => ({ components: [{ name: 'kubelet', version }] });
const payload = (version: string): NodePoolTemplate => ({ components: [{ name: PAYLOAD, version }] });

/** `work(0)` … `work(count - 1)`, `SETUP_CONCURRENCY` at once. */
const inParallel = (count: number, work: (index: number) => Promise<void>): Promise<void> =>
  forEachLimit(
    Array.from({ length: count }, (_, index) => index),
    SETUP_CONCURRENCY,
    work,
  );

/** What plays the Machines' agents in one size: the simulator, or real node-agent processes. */
interface Agents {
  /** The pool's template before and after the change. */
  readonly oldTemplate: NodePoolTemplate;
  readonly newTemplate: NodePoolTemplate;
  /** The fleet's Machines, as a watch sees them (read for the rollout's end). */
  readonly machines: Informer<MachineObject>;
  /** The catalog entry the templates name, and whatever else the agents need in the cluster. */
  install(): Promise<void>;
  /** Called for each Machine just created, with its spec at the old template. */
  created(machine: MachineObject): Promise<void>;
  /** After the ceiling, before the operator starts: returns once every agent reports the old template. */
  start(names: readonly string[]): Promise<void>;
  /** The agents' writes so far (the apiserver's count less these, its own and the benchmark's is the operator's). */
  writes(): number;
  /** T, once the rollout is over. */
  upgradeMs(): number;
  /** Fields of the figure only these agents have. */
  details(): Record<string, unknown>;
  stop(): Promise<void>;
}

interface AgentsKind {
  readonly name: string;
  readonly apiServerArgs: readonly string[];
  create(controlPlane: ControlPlane, client: KubeClient): Agents;
}

/** LOAD GENERATOR: the simulator plays every agent, taking --upgrade-ms to upgrade. */
const simulatedAgents: AgentsKind = {
  name: 'simulated agents',
  apiServerArgs: [],
  create: (controlPlane, client) => {
    const simulator = new RolloutAgentSimulator(
      new KubeClient(controlPlane.kubeConfig, {
        fieldManager: 'kok-bench-agent-simulator',
        qps: 5_000,
        burst: 5_000,
      }),
      upgradeMs,
      `${LABEL}=rollout`,
    );
    const oldTemplate = kubelet(OLD_KUBELET);
    return {
      oldTemplate,
      newTemplate: kubelet(NEW_KUBELET),
      machines: simulator.machines,
      // The operator tells machines only what the catalog offers.
      install: async () => {
        await client.apply(componentType, {
          apiVersion: componentType.apiVersion,
          kind: componentType.kind,
          metadata: { name: 'kubelet' },
          spec: {
            versions: [OLD_KUBELET, NEW_KUBELET].map((version) => ({
              version,
              artifact: { url: `https://artifacts.invalid/kubelet/${version}`, sha256: '0'.repeat(64) },
            })),
            install: { method: 'Binary', path: '/usr/local/bin/kubelet' },
          },
        });
      },
      // The fleet's state before the benchmark starts: the old revision reported at once.
      created: (machine) => simulator.reportNow(machine, templateRevision(oldTemplate)),
      start: () => simulator.start(),
      writes: () => simulator.writes,
      upgradeMs: () => upgradeMs,
      details: () => ({ simulatorFailedWrites: simulator.failedWrites }),
      stop: () => simulator.stop(),
    };
  },
};

/**
 * Real node-agent processes, one a Machine. Their writes are read from the apiserver's audit log, which
 * records the agents' group's writes and nothing else.
 */
function realAgents(): AgentsKind {
  const workDir = mkdtempSync(join(tmpdir(), 'kok-rollout-agents-'));
  const auditPolicy = join(workDir, 'audit-policy.json');
  const auditLog = join(workDir, 'audit.log');
  writeFileSync(auditPolicy, writesAuditPolicy(NODE_AGENT_GROUP));
  return {
    name: 'real agents',
    apiServerArgs: [`--audit-policy-file=${auditPolicy}`, `--audit-log-path=${auditLog}`],
    create: (controlPlane, client) => {
      const oldTemplate = payload(OLD_PAYLOAD);
      const newTemplate = payload(NEW_PAYLOAD);
      const rootsDir = join(workDir, 'roots');
      const identitiesDir = join(workDir, 'identities');
      const machines = new Informer<MachineObject>({
        client,
        type: machineType,
        labelSelector: `${LABEL}=rollout`,
      });
      const children: ChildProcess[] = [];
      let names: readonly string[] = [];
      let catalog: PayloadCatalog | undefined;
      // Armed once every agent runs the old template: nothing names the new revision before the patch.
      let clock: UpgradeClock | undefined;
      machines.addEventHandler({
        onAdd: (machine) => clock?.observe(machine, performance.now()),
        onUpdate: (_, machine) => clock?.observe(machine, performance.now()),
      });
      const upgradeMsEach = () => (clock?.upgradeMs() ?? []).sort((a, b) => a - b);
      return {
        oldTemplate,
        newTemplate,
        machines,
        install: async () => {
          catalog = await createPayloadComponent(client, [OLD_PAYLOAD, NEW_PAYLOAD]);
          await installAgentAccess(client);
        },
        created: async () => undefined,
        start: async (fleet) => {
          names = fleet;
          mkdirSync(rootsDir, { recursive: true });
          mkdirSync(identitiesDir, { recursive: true });
          const command = await nodeAgentCommand();
          await inParallel(fleet.length, async (index) => {
            const machine = fleet[index] as string;
            const kubeconfigPath = await agentKubeconfig(client, controlPlane, machine, identitiesDir);
            children.push(spawnNodeAgent(command, { machine, kubeconfigPath, rootsDir }));
          });
          machines.start();
          await machines.waitForSync();
          const current = templateRevision(oldTemplate);
          const reporting = () =>
            fleet.filter((name) => machines.getByName(undefined, name)?.status?.revision?.current === current)
              .length;
          await until(
            () => `every agent to report revision ${current} (${reporting()} of ${fleet.length} do)`,
            () => {
              const exited = children.find((child) => child.exitCode !== null);
              if (exited) throw new Error(`an agent exited with ${exited.exitCode}`);
              return reporting() === fleet.length;
            },
            120_000 + 10_000 * fleet.length,
          );
          clock = new UpgradeClock(templateRevision(newTemplate));
        },
        writes: () => (existsSync(auditLog) ? auditedRequests(readFileSync(auditLog, 'utf8')) : 0),
        upgradeMs: () => median(upgradeMsEach()),
        details: () => ({
          agents: REAL_AGENTS,
          upgradeSecondsMedian: round(median(upgradeMsEach()) / 1000),
          upgradeSecondsEach: upgradeMsEach().map((ms) => round(ms / 1000)),
          basis:
            "T (upgradeSecondsMedian) is the median of the machines' own upgrade times, each from a Machine watch's first sight of its spec.revision naming the new revision to its first sight of its status.revision.current reporting it; ideal = ⌈machines / maxUnavailable⌉ · T",
        }),
        stop: async () => {
          await stopNodeAgents(children, rootsDir, names);
          await machines.stop();
          await catalog?.close();
          rmSync(workDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** N Ready Nodes and N Machines at the old template, each handed to the agents as it is created. */
async function createFleet(client: KubeClient, agents: Agents, names: readonly string[]): Promise<void> {
  const template = agents.oldTemplate;
  const revision = templateRevision(template);
  const now = new Date().toISOString();
  await inParallel(names.length, async (index) => {
    const name = names[index] as string;
    // A Node keeps the status it is created with (no kubelet or node controller runs here to change it).
    await client.create(builtinTypes.node, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { [LABEL]: 'rollout', 'kubernetes.io/hostname': name } },
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: '',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        nodeInfo: { kubeletVersion: OLD_KUBELET, containerRuntimeVersion: 'containerd://2.1.4' },
      },
      // client-node types the times as Date; on the wire they are the strings written here.
    } as unknown as V1Node);
    const machine = await client.create(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name, labels: { [LABEL]: 'rollout' } },
      spec: { pool: POOL, revision, components: template.components ?? [] },
    } as MachineObject);
    await agents.created(machine);
  });
}

/**
 * The apiserver's write ceiling: a client that only writes Machines, as fast as the apiserver takes them.
 * It creates machines of its own (no two writes contend for one object, as patches of a small fleet
 * would), outside the pool, and deletes them untimed before the operator starts.
 */
async function machineWriteCeiling(client: KubeClient, writes: number): Promise<number> {
  const began = performance.now();
  await inParallel(writes, async (index) => {
    await client.create(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name: `ceiling-${index}`, labels: { [LABEL]: 'ceiling' } },
      spec: { pool: 'ceiling', revision: 'ceiling', components: [] },
    } as MachineObject);
  });
  const perSecond = writes / ((performance.now() - began) / 1000);
  // One delete each, in parallel: a single deletecollection of 10,000 could outlast a request's timeout.
  await inParallel(writes, async (index) => {
    await client.delete(machineType, { name: `ceiling-${index}` });
  });
  return perSecond;
}

async function measure(count: number, kind: AgentsKind) {
  const tag = `${count} (${kind.name})`;
  const controlPlane = await startControlPlane({
    extraArgs: {
      apiServer: [
        '--max-requests-inflight=2000',
        '--max-mutating-requests-inflight=1000',
        ...kind.apiServerArgs,
      ],
    },
  });
  // The benchmark's own clients are never held back by a client-side limit.
  const client = new KubeClient(controlPlane.kubeConfig, {
    fieldManager: 'kok-bench',
    qps: 5_000,
    burst: 5_000,
  });
  const agents = kind.create(controlPlane, client);
  const nodes = new Informer<V1Node>({ client, type: builtinTypes.node, labelSelector: `${LABEL}=rollout` });
  const pools = new Informer<NodePoolObject>({ client, type: nodePoolType });
  let operator: ChildProcess | undefined;
  try {
    await installCrds(client, NODES_GROUP);
    await agents.install();
    const names = Array.from({ length: count }, (_, i) => `machine-${String(i).padStart(5, '0')}`);
    const setupStarted = performance.now();
    await createFleet(client, agents, names);
    log(`${tag}: fleet created in ${round((performance.now() - setupStarted) / 1000)} s`);
    const ceilingWrites = Number(values['ceiling-writes'] ?? Math.max(2_000, count));
    const ceiling = await machineWriteCeiling(client, ceilingWrites);
    log(`${tag}: write ceiling ${round(ceiling)} Machine writes/s over ${ceilingWrites} writes`);

    const agentsStarted = performance.now();
    await agents.start(names);
    log(
      `${tag}: agents started and reporting the old template in ${round((performance.now() - agentsStarted) / 1000)} s`,
    );
    nodes.start();
    pools.start();
    await Promise.all([nodes.waitForSync(), pools.waitForSync()]);
    const port = await freePort();
    const launched = spawnNodeOperator(controlPlane.kubeconfigPath, port);
    operator = launched.process;
    const child = operator;
    const operatorMetrics = async (): Promise<string> => {
      if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}`);
      return launched.metrics();
    };
    const oldRevision = templateRevision(agents.oldTemplate);
    await client.create(nodePoolType, {
      apiVersion: nodePoolType.apiVersion,
      kind: nodePoolType.kind,
      metadata: { name: POOL },
      spec: { template: agents.oldTemplate, rollout: { strategy: { rollingUpdate: { maxUnavailable } } } },
    } as NodePoolObject);
    // Adoption (nodeRefs, per-machine grants, the pool's first status) is not the rollout: wait it out.
    const adoptionStarted = performance.now();
    await until(
      'the operator to adopt the fleet',
      async () => {
        const text = await operatorMetrics();
        return (
          text !== '' &&
          pools.getByName(undefined, POOL)?.status?.currentRevision === oldRevision &&
          metricSum(text, 'kok_reconcile_total', { controller: 'machine' }) >= count &&
          metricSum(text, 'kok_workqueue_depth') === 0 &&
          metricSum(text, 'kok_controller_active_workers') === 0
        );
      },
      600_000 + count * 100,
    );
    const adoptionSeconds = (performance.now() - adoptionStarted) / 1000;
    log(`${tag}: adopted in ${round(adoptionSeconds)} s`);
    await sleep(2_000); // the pass throttle's last requeues run out

    const target = templateRevision(agents.newTemplate);
    const budget = resolveMaxUnavailable(maxUnavailable, count);
    const waves = Math.ceil(count / budget);
    const requestsBefore = await scrapeRequests(client);
    const agentWritesBefore = agents.writes();
    const cpuBefore = processUsage(child.pid as number).cpuSeconds;
    const started = performance.now();
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: { template: agents.newTemplate },
    });
    const benchWrites = 1;
    const done = () =>
      pools.getByName(undefined, POOL)?.status?.currentRevision === target &&
      agents.machines.list().every((m) => m.status?.revision?.current === target) &&
      nodes.list().every((n) => n.spec?.unschedulable !== true);
    // Generous: at the shipped QPS a large rollout can take far longer than its ideal time (taken here at
    // the simulated T; real agents' T is known only afterwards, and their small pool stays under 30 minutes).
    const rolloutTimeoutMs = Math.max(1_800_000, 100 * waves * upgradeMs, 500 * count);
    await until(
      'the rollout to complete',
      async () => {
        if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}`);
        return done();
      },
      rolloutTimeoutMs,
    );
    const rolloutMs = performance.now() - started;
    const operatorUsage = processUsage(child.pid as number);
    const requestsAfter = await scrapeRequests(client);
    const agentWrites = agents.writes() - agentWritesBefore;
    const writes = requestDelta(requestsBefore, requestsAfter, true);
    // The apiserver counts every writer: itself (its own Leases and the kubernetes Service's endpoints; the
    // operator runs without leader election, so it writes no Lease), the agents (counted by the simulator
    // or read from the audit log) and the benchmark (its one patch). What is left is the operator's.
    const apiserverOwnWrites = Object.entries(writes)
      .filter(([kind]) => APISERVER_OWN_WRITES.test(kind))
      .reduce((sum, [, n]) => sum + n, 0);
    const operatorWrites = total(writes) - apiserverOwnWrites - agentWrites - benchWrites;
    const rolloutSeconds = rolloutMs / 1000;
    const idealMs = waves * agents.upgradeMs();
    const figure = {
      machines: count,
      maxUnavailable: budget,
      idealSeconds: round(idealMs / 1000),
      rolloutSeconds: round(rolloutSeconds),
      efficiency: round(idealMs / rolloutMs, 3),
      machineWriteCeilingPerSecond: round(ceiling),
      ceilingWrites,
      operatorWrites,
      operatorWritesPerMachine: round(operatorWrites / count),
      operatorWritesPerSecond: round(operatorWrites / rolloutSeconds),
      operatorWritesPerSecondToCeiling: round(operatorWrites / rolloutSeconds / ceiling, 3),
      // What the ideal time would take, at the writes a machine cost here: compare with the ceiling.
      writesPerSecondAtIdealPace: round(operatorWrites / (idealMs / 1000)),
      agentWrites,
      apiserverOwnWrites,
      writesByKind: writes,
      adoptionSeconds: round(adoptionSeconds),
      operatorCpuSecondsInRollout: round(operatorUsage.cpuSeconds - cpuBefore),
      operatorPeakRssMiB: round(operatorUsage.peakRssMiB),
      ...agents.details(),
    };
    log(`${tag}: ${JSON.stringify(figure)}`);
    return figure;
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator?.once('exit', resolve));
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    await agents.stop();
    await nodes.stop();
    await pools.stop();
    client.close();
    await controlPlane.stop();
  }
}

const began = performance.now();
const figures = [];
for (const count of sizes) figures.push(await measure(count, simulatedAgents));
const realAgentsFigure = realAgentCount > 0 ? await measure(realAgentCount, realAgents()) : undefined;

console.log(
  JSON.stringify({
    benchmark: 'rollout-efficiency',
    driver:
      'the node-operator process (apps/node-operator/src/main.ts) with its default flags and the chart NODE_OPTIONS, against etcd and kube-apiserver',
    loadGenerator:
      'simulated agents (one Machine watch, one status write per machine T after it is told a revision); no node-agent, kubelet or pods',
    operatorQps: shipped.qps,
    operatorBurst: shipped.burst,
    // Each client's rate starts at operatorQps and rises towards this while the apiserver refuses nothing.
    operatorMaxQps: shipped.maxQps,
    operatorNodeOptions,
    upgradeMs,
    maxUnavailable,
    figures,
    // The same, with real node-agent processes and T measured (absent with --real-agents=0).
    realAgents: realAgentsFigure,
    target: { efficiencyAt1000: 0.95, efficiencyAt10000: 0.9 },
    totalSeconds: round((performance.now() - began) / 1000),
  }),
);
process.exit(0);
