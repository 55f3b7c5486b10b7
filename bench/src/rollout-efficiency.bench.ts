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
//    says otherwise, every other rollout field as defaulted), the kubelet catalog entry its template
//    names;
//  - LOAD GENERATOR, not kok: the agents are simulated (rollout-agent-simulator.ts): one watch over the
//    Machines, one status write per machine T after it is told a revision. No node-agent or kubelet runs,
//    no pods run, so every drain finds nothing to evict.
// Timed: from the template change (one patch of the NodePool) until the pool's status names the new
// revision current, every Machine reports it and no Node is cordoned.
//
// Baseline in the same run, on the same apiserver, before the operator starts: a client that only writes
// Machines (creates, 64 in flight, no client rate limit) — the apiserver's write ceiling.
// Reported beside it: the operator's writes during the rollout (the apiserver's count less the
// simulator's writes, the apiserver's own and the benchmark's one patch), per machine and per second, and the write rate the
// ideal time would take at that many writes a machine.
//
// Leaves out: real agents and hosts (download, install, restart: that is T here), pods and PDBs (the
// drain), leader election, and adoption, which happens before the clock starts (node-scale times it).
//
//   npm run bench -- rollout-efficiency [--sizes=100,1000,10000] [--upgrade-ms=1000]
//     [--max-unavailable=5%] [--ceiling-writes=<n>] [--node-options=<s>]
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  componentType,
  machineType,
  nodePoolType,
  NODES_GROUP,
  templateRevision,
} from '@kok/api';
import type { MachineObject, NodePoolObject, NodePoolTemplate } from '@kok/api';
import { builtinTypes, forEachLimit, Informer, KubeClient, PatchType } from '@kok/reconcile';
import { resolveMaxUnavailable } from '@kok/rollout';
import { eventually, freePort, installCrds, startControlPlane } from '@kok/testing';
import type { V1Node } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the operator app as it ships
import { parseCommandLine } from '@kok/node-operator/src/command-line.ts';
import { requestDelta, scrapeRequests, total } from './apiserver-requests.ts';
import { operatorNodeOptions, spawnNodeOperator } from './node-operator-process.ts';
import { processUsage } from './process-usage.ts';
import { metricSum } from './prometheus-text.ts';
import { RolloutAgentSimulator } from './rollout-agent-simulator.ts';
import { round } from './statistics.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    'upgrade-ms': { type: 'string', default: '1000' },
    'max-unavailable': { type: 'string', default: '5%' },
    'ceiling-writes': { type: 'string' },
    'node-options': { type: 'string' },
  },
});
/** Pool sizes, one figure each, each on a fresh control plane. */
const sizes = values.sizes.split(',').map(Number);
/** T: the time the simulated agent takes to upgrade one machine. */
const upgradeMs = Number(values['upgrade-ms']);
const maxUnavailable = /^\d+$/.test(values['max-unavailable'])
  ? Number(values['max-unavailable'])
  : values['max-unavailable'];
/** The operator's client limits as shipped, read from its own flag parser (the benchmark passes none). */
const shipped = parseCommandLine([]);
const OLD_KUBELET = 'v1.36.3';
const NEW_KUBELET = 'v1.36.4';
const LABEL = 'kok-bench';
const POOL = 'bench';
const SETUP_CONCURRENCY = 64;
/** Write kinds the apiserver makes by itself (apiserver_request_total's `VERB resource`). */
const APISERVER_OWN_WRITES = /^\S+ (leases|endpoints|endpointslices)$/;

const log = (message: string): void => void process.stderr.write(`[rollout-efficiency] ${message}\n`);
/** @kok/testing's eventually, looking every 50 ms (the rollout's end is read from it). */
const until: typeof eventually = (what, check, timeoutMs, options = 50) => eventually(what, check, timeoutMs, options);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kubelet = (version: string): NodePoolTemplate => ({ components: [{ name: 'kubelet', version }] });

/** `work(0)` … `work(count - 1)`, `SETUP_CONCURRENCY` at once. */
const inParallel = (count: number, work: (index: number) => Promise<void>): Promise<void> =>
  forEachLimit(
    Array.from({ length: count }, (_, index) => index),
    SETUP_CONCURRENCY,
    work,
  );

async function installCrdsAndCatalog(client: KubeClient): Promise<void> {
  await installCrds(client, NODES_GROUP);
  // The operator tells machines only what the catalog offers.
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
}

/** N Ready Nodes and N Machines already running the old template, as their agents report it. */
async function createFleet(
  client: KubeClient,
  simulator: RolloutAgentSimulator,
  names: string[],
): Promise<void> {
  const template = kubelet(OLD_KUBELET);
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
    await simulator.reportNow(machine, revision);
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

async function measure(count: number) {
  const controlPlane = await startControlPlane({
    extraArgs: { apiServer: ['--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'] },
  });
  // The benchmark's own clients are never held back by a client-side limit.
  const client = new KubeClient(controlPlane.kubeConfig, {
    fieldManager: 'kok-bench',
    qps: 5_000,
    burst: 5_000,
  });
  const simulator = new RolloutAgentSimulator(
    new KubeClient(controlPlane.kubeConfig, {
      fieldManager: 'kok-bench-agent-simulator',
      qps: 5_000,
      burst: 5_000,
    }),
    upgradeMs,
    `${LABEL}=rollout`,
  );
  const nodes = new Informer<V1Node>({ client, type: builtinTypes.node, labelSelector: `${LABEL}=rollout` });
  const pools = new Informer<NodePoolObject>({ client, type: nodePoolType });
  let operator: ChildProcess | undefined;
  try {
    await installCrdsAndCatalog(client);
    const names = Array.from({ length: count }, (_, i) => `machine-${String(i).padStart(5, '0')}`);
    const setupStarted = performance.now();
    await createFleet(client, simulator, names);
    log(`${count}: fleet created in ${round((performance.now() - setupStarted) / 1000)} s`);
    const ceilingWrites = Number(values['ceiling-writes'] ?? Math.max(2_000, count));
    const ceiling = await machineWriteCeiling(client, ceilingWrites);
    log(`${count}: write ceiling ${round(ceiling)} Machine writes/s over ${ceilingWrites} writes`);

    await simulator.start();
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
    const oldRevision = templateRevision(kubelet(OLD_KUBELET));
    await client.create(nodePoolType, {
      apiVersion: nodePoolType.apiVersion,
      kind: nodePoolType.kind,
      metadata: { name: POOL },
      spec: { template: kubelet(OLD_KUBELET), rollout: { strategy: { rollingUpdate: { maxUnavailable } } } },
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
    log(`${count}: adopted in ${round(adoptionSeconds)} s`);
    await sleep(2_000); // the pass throttle's last requeues run out

    const target = templateRevision(kubelet(NEW_KUBELET));
    const budget = resolveMaxUnavailable(maxUnavailable, count);
    const idealMs = Math.ceil(count / budget) * upgradeMs;
    const requestsBefore = await scrapeRequests(client);
    const simulatorWritesBefore = simulator.writes;
    const cpuBefore = processUsage(child.pid as number).cpuSeconds;
    const started = performance.now();
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: { template: kubelet(NEW_KUBELET) },
    });
    const benchWrites = 1;
    const done = () =>
      pools.getByName(undefined, POOL)?.status?.currentRevision === target &&
      simulator.machines.list().every((m) => m.status?.revision?.current === target) &&
      nodes.list().every((n) => n.spec?.unschedulable !== true);
    // Generous: at the shipped QPS a large rollout can take far longer than its ideal time.
    const rolloutTimeoutMs = Math.max(1_800_000, 100 * idealMs, 500 * count);
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
    const writes = requestDelta(requestsBefore, requestsAfter, true);
    // The apiserver counts every writer: itself (its own Leases and the kubernetes Service's endpoints; the
    // operator runs without leader election, so it writes no Lease), the simulator (which counts its own
    // writes) and the benchmark (its one patch). What is left is the operator's.
    const apiserverOwnWrites = Object.entries(writes)
      .filter(([kind]) => APISERVER_OWN_WRITES.test(kind))
      .reduce((sum, [, n]) => sum + n, 0);
    const simulatorWrites = simulator.writes - simulatorWritesBefore;
    const operatorWrites = total(writes) - apiserverOwnWrites - simulatorWrites - benchWrites;
    const rolloutSeconds = rolloutMs / 1000;
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
      simulatorWrites,
      apiserverOwnWrites,
      simulatorFailedWrites: simulator.failedWrites,
      writesByKind: writes,
      adoptionSeconds: round(adoptionSeconds),
      operatorCpuSecondsInRollout: round(operatorUsage.cpuSeconds - cpuBefore),
      operatorPeakRssMiB: round(operatorUsage.peakRssMiB),
    };
    log(JSON.stringify(figure));
    return figure;
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator?.once('exit', resolve));
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    await simulator.stop();
    await nodes.stop();
    await pools.stop();
    client.close();
    await controlPlane.stop();
  }
}

const began = performance.now();
const figures = [];
for (const count of sizes) figures.push(await measure(count));

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
    target: { efficiencyAt1000: 0.95, efficiencyAt10000: 0.9 },
    totalSeconds: round((performance.now() - began) / 1000),
  }),
);
process.exit(0);
