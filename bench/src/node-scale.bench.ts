// The node-operator at fleet scale: 10,000 Machines and 10,000 Nodes (10 NodePools
// of 1,000, one RemediationPolicy over all) in a local control plane, the operator
// as a real process, at its shipped defaults (client QPS included) unless --operator-qps says
// otherwise, and then labelled tuned. Measures time to sync (read from listings: every Machine
// and Node carries what adoption gives it, see fleet-sync.ts), next to the apiserver's write
// ceiling measured in the same run (the setup writer), the writes per machine by kind, the
// operator's RSS and CPU seconds, apiserver
// requests per second at steady state (against a baseline without the operator),
// reconcile latency p50/p99 per controller, the time and writes of a no-op resync of
// every pool, and of a restart of the operator over the adopted fleet.
//   --machines=<n>    fleet size (default 10000)
//   --pools=<n>       NodePools the fleet is split into (default 10)
//   --steady-seconds  length of the steady-state window (default 30)
//   --baseline-seconds length of the window without the operator (default 10)
//   --operator-qps=<n> a tuned run: the operator's client held to a fixed n requests/s (burst twice that);
//                     default: as shipped, a rate that starts at 100 and rises while the apiserver refuses nothing
//   --cpu-prof-dir=<d> write the operator's V8 CPU profile there
//   --node-options=<s> instead of the chart's NODE_OPTIONS for the operator ("" for V8's own heap sizing)
// Setup (creating the fleet, 64 requests at a time) is timed apart from the measured phase,
// which starts when the operator process is spawned.
import { NODE_AGENT_GRANT_LABEL, NODES_GROUP, templateRevision } from '@kok/api';
import { builtinTypes, forEachLimit, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import { freePort, installCrds, startControlPlane } from '@kok/testing';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { loadavg } from 'node:os';
import { requestDelta, scrapeRequests, total, WRITE_VERBS } from './apiserver-requests.ts';
import { operatorNodeOptions, spawnNodeOperator, type BenchOperator } from './node-operator-process.ts';
import { fleetLag, isSynced, type FleetLag, type ListedMachine, type ListedNode } from './fleet-sync.ts';
import type { ChildProcess } from 'node:child_process';
import { processUsage } from './process-usage.ts';
import { histogramQuantile, metricSum } from './prometheus-text.ts';
import { round } from './statistics.ts';

const arg = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const machineCount = arg('machines', 10_000);
const poolCount = arg('pools', 10);
const steadySeconds = arg('steady-seconds', 30);
const baselineSeconds = arg('baseline-seconds', 10);
const operatorQps = process.argv.find((a) => a.startsWith('--operator-qps='))?.split('=')[1];
const concurrency = 64;
/** Directory for the operator's V8 CPU profile (`--cpu-prof`); unset: no profile. */
const cpuProfDir = process.argv.find((a) => a.startsWith('--cpu-prof-dir='))?.split('=')[1];
const LABEL = 'kok-bench';
const KUBELET_VERSION = 'v1.36.3';
const template = { components: [{ name: 'kubelet', version: KUBELET_VERSION }] };
const revision = templateRevision(template);

type Obj = KubernetesObject & Record<string, unknown>;
const machineType = resourceType<Obj>('nodes.kok.dev/v1alpha1', 'Machine', 'machines', false);
const poolType = resourceType<Obj>('nodes.kok.dev/v1alpha1', 'NodePool', 'nodepools', false);
const policyType = resourceType<Obj>(
  'nodes.kok.dev/v1alpha1',
  'RemediationPolicy',
  'remediationpolicies',
  false,
);

const log = (message: string): void => void process.stderr.write(`[node-scale] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `work(0)` … `work(count - 1)`, `concurrency` at once. */
const inParallel = (count: number, work: (index: number) => Promise<void>): Promise<void> =>
  forEachLimit(
    Array.from({ length: count }, (_, index) => index),
    concurrency,
    work,
  );

async function createFleet(client: KubeClient): Promise<void> {
  const now = new Date().toISOString();
  const condition = (type: string, reason: string) => ({
    type,
    status: 'True',
    reason,
    message: '',
    lastTransitionTime: now,
  });
  await inParallel(machineCount, async (index) => {
    const name = `node-${index}`;
    const labels = {
      [LABEL]: 'node-scale',
      'kubernetes.io/hostname': name,
      'topology.kubernetes.io/zone': `zone-${index % 3}`,
    };
    // A Node keeps the status it is created with (a CRD's status subresource does not), so one request.
    await client.create(builtinTypes.node, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels },
      status: {
        conditions: [
          { ...condition('Ready', 'KubeletReady'), lastHeartbeatTime: now },
          {
            ...condition('MemoryPressure', 'KubeletHasSufficientMemory'),
            status: 'False',
            lastHeartbeatTime: now,
          },
        ],
        nodeInfo: { kubeletVersion: KUBELET_VERSION, containerRuntimeVersion: 'containerd://2.1.4' },
      },
      // client-node types the times as Date; on the wire they are the strings written here.
    } as unknown as V1Node);
    await client.create(machineType, {
      apiVersion: machineType.apiVersion,
      kind: 'Machine',
      metadata: { name, labels: { [LABEL]: 'node-scale' } },
      spec: { pool: `pool-${index % poolCount}`, revision, components: template.components },
    });
    // What the node agent reports once it runs the revision.
    await client.mergePatchStatus(
      machineType,
      { name },
      {
        status: {
          revision: { current: revision, desired: revision },
          components: [{ name: 'kubelet', version: KUBELET_VERSION, state: 'Running' }],
          conditions: [condition('AgentReady', 'Converged'), condition('UpToDate', 'AtDesiredRevision')],
        },
      },
    );
  });
  for (let i = 0; i < poolCount; i++) {
    await client.create(poolType, {
      apiVersion: poolType.apiVersion,
      kind: 'NodePool',
      metadata: { name: `pool-${i}` },
      spec: { template, rollout: { strategy: { rollingUpdate: { maxUnavailable: '10%' } } } },
    });
  }
  await client.create(policyType, {
    apiVersion: policyType.apiVersion,
    kind: 'RemediationPolicy',
    metadata: { name: 'node-scale' },
    spec: {
      selector: { matchLabels: { [LABEL]: 'node-scale' } },
      unhealthyConditions: [
        { type: 'KernelDeadlock', status: 'True', duration: '5m' },
        { type: 'Ready', status: 'False', duration: '5m' },
      ],
      actions: [{ type: 'RestartComponent', component: 'kubelet', timeout: '5m' }, { type: 'Reboot' }],
    },
  });
}

/** All requests and the writes among them, so far. */
async function apiserverRequests(client: KubeClient): Promise<{ all: number; writes: number }> {
  const counts = await scrapeRequests(client);
  return { all: total(Object.fromEntries(counts)), writes: total(requestDelta(new Map(), counts, true)) };
}

/** The writes among a delta of request counts, each divided by `machines`: what adoption costs a machine. */
function writesPerMachine(requests: Record<string, number>, machines: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(requests)
      .filter(([key]) => WRITE_VERBS.has(key.split(' ')[0] ?? ''))
      .map(([key, count]) => [key, round(count / machines, 3)]),
  );
}

const controlPlane = await startControlPlane({
  extraArgs: { apiServer: ['--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'] },
});
let operator: ChildProcess | undefined;
try {
  const client = new KubeClient(controlPlane.kubeConfig, {
    fieldManager: 'kok-bench',
    qps: 5_000,
    burst: 5_000,
  });
  await installCrds(client, NODES_GROUP);
  const created = performance.now();
  await createFleet(client);
  const setupSeconds = (performance.now() - created) / 1000;
  log(`created ${machineCount} Nodes and Machines in ${round(setupSeconds)}s`);

  await sleep(3_000);
  const baselineStart = await apiserverRequests(client);
  await sleep(baselineSeconds * 1000);
  const baselineEnd = await apiserverRequests(client);
  const baselineRps = (baselineEnd.all - baselineStart.all) / baselineSeconds;

  const launch = async (): Promise<BenchOperator> => {
    const port = await freePort();
    return spawnNodeOperator(controlPlane.kubeconfigPath, port, {
      nodeArgs: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
      // Tuned: a fixed rate (its ceiling the same), not the shipped one that rises while the apiserver has room.
      operatorArgs: operatorQps
        ? [
            '--kube-api-qps',
            operatorQps,
            '--kube-api-burst',
            String(2 * Number(operatorQps)),
            '--kube-api-qps-max',
            operatorQps,
          ]
        : [],
    });
  };
  const idle = (text: string) =>
    metricSum(text, 'kok_workqueue_depth') === 0 && metricSum(text, 'kok_controller_active_workers') === 0;
  const listFleet = async (): Promise<FleetLag> => {
    const [machines, nodes, bindings, pools, policy] = await Promise.all([
      client.list(machineType, { labelSelector: `${LABEL}=node-scale` }),
      client.list(builtinTypes.node, { labelSelector: `${LABEL}=node-scale` }),
      client.list(builtinTypes.clusterRoleBinding, { labelSelector: `${NODE_AGENT_GRANT_LABEL}=true` }),
      client.list(poolType),
      client.get(policyType, { name: 'node-scale' }),
    ]);
    return fleetLag(
      {
        machines: machines.items as ListedMachine[],
        nodes: nodes.items as ListedNode[],
        grantBindings: bindings.items,
        poolMachines: pools.items.map((p) =>
          Number((p.status as { machines?: number } | undefined)?.machines ?? 0),
        ),
        policyExpectedMachines: Number(
          (policy.status as { expectedMachines?: number } | undefined)?.expectedMachines ?? 0,
        ),
      },
      machineCount,
    );
  };
  // Synced: the listings show every Machine, Node, grant and status as adoption leaves them (fleet-sync.ts),
  // and the operator has nothing queued or running. Its reconcile counts only say when listing is worth it:
  // every Machine must have been looked at once before the fleet can be synced.
  const waitForSync = async (launched: Awaited<ReturnType<typeof launch>>): Promise<FleetLag> => {
    for (;;) {
      const text = await launched.metrics();
      if (
        text &&
        metricSum(text, 'kok_reconcile_total', { controller: 'machine' }) >= machineCount &&
        metricSum(text, 'kok_reconcile_total', { controller: 'nodepool' }) >= poolCount &&
        metricSum(text, 'kok_reconcile_total', { controller: 'remediation' }) >= 1 &&
        idle(text)
      ) {
        const lag = await listFleet();
        if (isSynced(lag)) return lag;
      }
      if (launched.process.exitCode !== null)
        throw new Error(`the operator exited with ${launched.process.exitCode}`);
      // Rendering /metrics is not free for the operator: 10 polls a second cost it 2 % of its CPU at 10,000.
      await sleep(500);
    }
  };
  const stopOperator = async (): Promise<void> => {
    if (!operator || operator.exitCode !== null) return;
    // A graceful exit writes the CPU profile; give it a little time before the apiserver goes.
    const exited = new Promise((resolve) => operator?.once('exit', resolve));
    operator.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
  };

  const beforeSync = await scrapeRequests(client);
  const writesBeforeSync = (await apiserverRequests(client)).writes;
  const started = performance.now();
  const first = await launch();
  operator = first.process;
  const pid = operator.pid as number;
  const operatorMetrics = first.metrics;
  await waitForSync(first);
  const syncSeconds = (performance.now() - started) / 1000;
  const afterSync = processUsage(pid);
  const syncLoad = loadavg()[0] ?? 0;
  const syncMetrics = await operatorMetrics();
  const latencyIn = (metrics: string) => (controller: string) => ({
    p50Ms: round(1000 * histogramQuantile(metrics, 'kok_reconcile_duration_seconds', { controller }, 0.5)),
    p99Ms: round(1000 * histogramQuantile(metrics, 'kok_reconcile_duration_seconds', { controller }, 0.99)),
    count: metricSum(metrics, 'kok_reconcile_total', { controller }),
  });
  const latency = latencyIn(syncMetrics);
  const writesToSync = (await apiserverRequests(client)).writes - writesBeforeSync;
  const syncRequests = requestDelta(beforeSync, await scrapeRequests(client));
  log(`synced in ${round(syncSeconds)}s`);
  log(`requests during sync: ${JSON.stringify(syncRequests)}`);
  // Once synced, nothing is behind: the check that ended the wait, kept in the result.
  const syncedLag = await listFleet();
  const pools = await Promise.all(
    Array.from({ length: poolCount }, (_, i) => client.get(poolType, { name: `pool-${i}` })),
  );

  // Steady state: nothing changes, so the operator should hardly talk to the apiserver.
  await sleep(5_000);
  const steadyKinds = await scrapeRequests(client);
  const steadyStart = await apiserverRequests(client);
  const cpuStart = processUsage(pid).cpuSeconds;
  await sleep(steadySeconds * 1000);
  const steadyEnd = await apiserverRequests(client);
  log(`requests at steady state: ${JSON.stringify(requestDelta(steadyKinds, await scrapeRequests(client)))}`);
  const steady = processUsage(pid);

  // No-op resync: touch every pool (no spec change), so each replans its 1,000 machines and writes nothing.
  const resyncStartMetrics = await operatorMetrics();
  const nodepoolBefore = metricSum(resyncStartMetrics, 'kok_reconcile_total', { controller: 'nodepool' });
  const writesBefore = (await apiserverRequests(client)).writes;
  const resyncStarted = performance.now();
  await Promise.all(
    pools.map((p) =>
      client.patch(poolType, { name: p.metadata?.name ?? '' }, PatchType.merge, {
        metadata: { annotations: { 'bench.kok.dev/touched': String(Date.now()) } },
      }),
    ),
  );
  for (;;) {
    const text = await operatorMetrics();
    if (
      metricSum(text, 'kok_reconcile_total', { controller: 'nodepool' }) >= nodepoolBefore + poolCount &&
      idle(text)
    )
      break;
    await sleep(20);
  }
  const resyncSeconds = (performance.now() - resyncStarted) / 1000;
  const writesDuringResync = (await apiserverRequests(client)).writes - writesBefore - poolCount;

  // Restart over the adopted fleet (an upgrade or a failover): the caches fill again, every Machine is
  // reconciled once more, and nothing needs writing.
  await stopOperator();
  const beforeRestart = await scrapeRequests(client);
  const writesBeforeRestart = (await apiserverRequests(client)).writes;
  const restarted = performance.now();
  const second = await launch();
  operator = second.process;
  await waitForSync(second);
  const restartSeconds = (performance.now() - restarted) / 1000;
  // A new process, so its histograms hold the restart's reconciles only: every machine seen again, no writes.
  const restartLatency = latencyIn(await second.metrics());
  const afterRestart = processUsage(operator.pid as number);
  const writesDuringRestart = (await apiserverRequests(client)).writes - writesBeforeRestart;
  const restartRequests = requestDelta(beforeRestart, await scrapeRequests(client));
  log(`requests during restart: ${JSON.stringify(restartRequests)}`);

  const result = {
    benchmark: 'node-scale',
    machines: machineCount,
    nodes: machineCount,
    pools: poolCount,
    operatorNodeOptions,
    // null: the operator's own default, as shipped; a number is a tuned run.
    operatorQps: operatorQps === undefined ? null : Number(operatorQps),
    run: operatorQps === undefined ? 'shipped defaults' : `tuned: --kube-api-qps=${operatorQps}`,
    setupSeconds: round(setupSeconds),
    // The same apiserver's write rate when a client does nothing but write (64 at a time): a ceiling
    // for the operator's adoption, which needs two writes a machine.
    setupWritesPerSecond: round((3 * machineCount) / setupSeconds),
    syncSeconds: round(syncSeconds),
    syncWrites: writesToSync,
    syncWritesPerSecond: round(writesToSync / syncSeconds),
    // The operator's adoption write rate as a share of that ceiling, and what adoption costs a machine.
    syncWritesPerSecondToSetupWritesPerSecond: round(
      writesToSync / syncSeconds / ((3 * machineCount) / setupSeconds),
    ),
    syncWritesPerMachine: round(writesToSync / machineCount),
    // `VERB resource[/subresource]` → writes a machine (failed requests included), from the apiserver's own counts.
    syncWritesPerMachineByKind: writesPerMachine(syncRequests, machineCount),
    reconcileLatencyToSync: {
      machine: latency('machine'),
      nodepool: latency('nodepool'),
      remediation: latency('remediation'),
    },
    loadAverage1m: { atSync: round(syncLoad), atEnd: round(loadavg()[0] ?? 0) },
    // Every count 0: how the listings looked when the sync was declared (fleet-sync.ts).
    syncedLag,
    operator: {
      rssMiB: round(steady.rssMiB),
      peakRssMiB: round(steady.peakRssMiB),
      cpuSecondsToSync: round(afterSync.cpuSeconds),
      cpuSecondsPerMinuteSteady: round(((steady.cpuSeconds - cpuStart) * 60) / steadySeconds),
    },
    apiserverRequestsPerSecond: {
      steady: round((steadyEnd.all - steadyStart.all) / steadySeconds),
      steadyWrites: round((steadyEnd.writes - steadyStart.writes) / steadySeconds),
      baselineWithoutOperator: round(baselineRps),
    },
    restart: {
      syncSeconds: round(restartSeconds),
      writes: writesDuringRestart,
      writesByKind: writesPerMachine(restartRequests, 1),
      rssMiB: round(afterRestart.rssMiB),
      cpuSecondsToSync: round(afterRestart.cpuSeconds),
      reconcileLatency: {
        machine: restartLatency('machine'),
        nodepool: restartLatency('nodepool'),
        remediation: restartLatency('remediation'),
      },
    },
    noopResync: {
      seconds: round(resyncSeconds),
      machinesReplanned: machineCount,
      writes: Math.max(0, writesDuringResync),
    },
    targets: {
      syncSeconds: 60,
      syncWritesPerSecondToCeiling: 0.9,
      syncWritesPerMachine: 2,
      operatorRssMiB: 400,
      machineReconcileP99Ms: 50,
      steadyRequestsPerSecond: 5,
    },
  };
  console.log(JSON.stringify(result));
} finally {
  if (operator && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator?.once('exit', resolve));
    operator.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
  }
  await controlPlane.stop();
}
