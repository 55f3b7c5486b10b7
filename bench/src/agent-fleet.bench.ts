// A fleet of node agents against a local control plane: how long until every agent
// converged a new revision, and how many writes each agent makes per minute when nothing
// changes, heartbeats included: the steady window lasts at least two heartbeat periods and
// opens once the last rollout has settled (no Machine has changed in anything but its
// heartbeat for --settle-seconds; a fleet that never settles gets its window all the same,
// and the JSON says settled: false). Writes are counted twice: the apiserver's request
// counters (every write request, a no-op included), and a watch on the Machines, each
// version diffed with the one before it, for the breakdown by the fields a write changed.
// The agents run with the shipped --heartbeat-seconds (300) and --resync-seconds (60)
// unless --heartbeat-seconds says otherwise; the JSON says which.
//   --agents <n>              default 200
//   --agents-per-process <k>  default 1 (each agent its own `node src/main.ts`); >1 hosts k agents per process
//   --heartbeat-seconds <s>   the agents' --heartbeat-seconds; default: not passed (the shipped 300)
//   --steady-seconds <s>      steady-state window, default two heartbeat periods; no shorter is accepted
//   --rollouts <r>            revision changes timed (median reported), default 3
//   --settle-seconds <s>      how long the fleet must be quiet but for heartbeats before the window, default 10
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, KubeClient, PatchType } from '@kok/reconcile';
import { startControlPlane } from '@kok/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { installNodeCrds } from '@kok/node-agent/src/fixtures/cluster.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { machineType } from '@kok/node-agent/src/resources.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import type { MachineObject } from '@kok/node-agent/src/resources.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { parseFlags } from '@kok/node-agent/src/flags.ts';
import { changedFields, tallyWrites } from './changed-fields.ts';
import {
  createPayloadComponent,
  nodeAgentCommand,
  PAYLOAD,
  spawnNodeAgent,
  stopNodeAgents,
  type PayloadCatalog,
} from './node-agent-processes.ts';
import { processUsage } from './process-usage.ts';
import { median, round } from './statistics.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '200' },
    'agents-per-process': { type: 'string', default: '1' },
    'heartbeat-seconds': { type: 'string' },
    'steady-seconds': { type: 'string' },
    rollouts: { type: 'string', default: '3' },
    'settle-seconds': { type: 'string', default: '10' },
  },
});
const agentCount = Number(values.agents);
const perProcess = Number(values['agents-per-process']);
// The agent's own default, read from its flag parser, so that the two cannot drift apart.
const shippedHeartbeatSeconds = parseFlags(['--machine=bench'], {}, 'bench').heartbeatSeconds;
const heartbeatFlag = values['heartbeat-seconds'];
const heartbeatSeconds = heartbeatFlag === undefined ? shippedHeartbeatSeconds : Number(heartbeatFlag);
const steadySeconds = Number(values['steady-seconds'] ?? 2 * heartbeatSeconds);
if (!(steadySeconds >= 2 * heartbeatSeconds)) {
  console.error(
    `--steady-seconds ${steadySeconds} is shorter than two heartbeat periods (2 × ${heartbeatSeconds} s): no heartbeat might fall in it`,
  );
  process.exit(2);
}
const rollouts = Number(values.rollouts);
const settleSeconds = Number(values['settle-seconds']);
/** What a heartbeat changes, and nothing else. */
const HEARTBEAT_FIELD = 'status.agent.lastHeartbeatTime';
const log = (message: string) => console.error(`[agent-fleet] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** apiserver_request_total write counters, by resource, scraped with the admin client certificate. */
function scrapeWrites(kubeConfig: KubeConfig): Promise<Map<string, number>> {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster?.server}/metrics`,
      { ca: b64(cluster?.caData), cert: b64(user?.certData), key: b64(user?.keyData) },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const writes = new Map<string, number>();
          for (const line of text.split('\n')) {
            if (!line.startsWith('apiserver_request_total{')) continue;
            if (!/verb="(PATCH|APPLY|UPDATE|CREATE)"/.test(line)) continue;
            const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
            const sub = /subresource="([^"]*)"/.exec(line)?.[1] ?? '';
            const key = sub ? `${resource}/${sub}` : resource;
            writes.set(key, (writes.get(key) ?? 0) + Number(line.split(' ').at(-1)));
          }
          resolve(writes);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const began = performance.now();
const controlPlane = await startControlPlane({
  extraArgs: { apiServer: ['--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'] },
});
const admin = new KubeClient(controlPlane.kubeConfig, { qps: 500, burst: 1000 });
// One agent per process runs as it ships (the bundle); several per process load the sources in-process.
const agentCommand = await nodeAgentCommand();
const rootsDir = mkdtempSync(join(tmpdir(), 'kok-fleet-'));
let payload: PayloadCatalog | undefined;
const children: ChildProcess[] = [];
const machines = Array.from({ length: agentCount }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
try {
  await installNodeCrds(admin);
  const versions = ['1.0.0', '2.0.0'];
  payload = await createPayloadComponent(admin, versions);
  const specFor = (revision: number) => ({
    revision: `r${revision}`,
    components: [{ name: PAYLOAD, version: versions[revision % 2] ?? '1.0.0' }],
    files: [{ path: '/etc/kok/payload.conf', content: `revision: ${revision}\n` }],
  });
  const inParallel = async (fn: (machine: string) => Promise<unknown>) => {
    for (let i = 0; i < machines.length; i += 50) await Promise.all(machines.slice(i, i + 50).map(fn));
  };
  await inParallel((name) =>
    admin.create(machineType, { metadata: { name }, spec: specFor(0) } as MachineObject),
  );

  // Every version of every Machine, for the breakdown of the steady window's writes by field.
  const watcher = new Informer({ client: admin, type: machineType });
  watcher.start();
  await watcher.waitForSync();
  const converged = async (revision: string) => {
    const { items } = await admin.list(machineType);
    return items.filter((m) => m.status?.revision?.current === revision).length;
  };
  const waitForAll = async (revision: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = await converged(revision);
      if (done === agentCount) return;
      if (Date.now() > deadline) throw new Error(`only ${done}/${agentCount} converged ${revision}`);
      await sleep(250);
    }
  };

  log(`starting ${agentCount} agents, ${perProcess} per process`);
  const startedAt = performance.now();
  for (let i = 0; i < machines.length; i += perProcess) {
    const group = machines.slice(i, i + perProcess);
    for (const m of group) mkdirSync(join(rootsDir, m), { recursive: true });
    const child =
      perProcess === 1
        ? spawnNodeAgent(agentCommand, {
            machine: group[0] ?? '',
            kubeconfigPath: controlPlane.kubeconfigPath,
            rootsDir,
            args: heartbeatFlag === undefined ? [] : [`--heartbeat-seconds=${heartbeatFlag}`],
          })
        : spawn(
            process.execPath,
            [
              new URL('./agent-fleet-worker.ts', import.meta.url).pathname,
              controlPlane.kubeconfigPath,
              rootsDir,
              String(heartbeatSeconds),
              ...group,
            ],
            { stdio: ['ignore', 'ignore', 'inherit'] },
          );
    children.push(child);
    if (children.length % 20 === 0) await sleep(500); // do not start hundreds of node processes in one tick
  }
  await waitForAll('r0', 900_000);
  const firstConvergeSeconds = (performance.now() - startedAt) / 1000;
  log(`all ${agentCount} agents started and converged r0 in ${round(firstConvergeSeconds)} s`);
  const rss = Number(
    execFileSync('sh', [
      '-c',
      `ps -o rss= -p ${children.map((c) => c.pid).join(',')} | awk '{s+=$1} END {print s}'`,
    ]).toString(),
  );

  const rolloutSeconds: number[] = [];
  for (let r = 1; r <= rollouts; r++) {
    const t0 = performance.now();
    await inParallel((name) => admin.patch(machineType, { name }, PatchType.merge, { spec: specFor(r) }));
    await waitForAll(`r${r}`, 600_000);
    rolloutSeconds.push((performance.now() - t0) / 1000);
    log(
      `rollout ${r}/${rollouts} (payload ${versions[r % 2]}): all converged in ${round(rolloutSeconds.at(-1) ?? 0)} s`,
    );
  }

  // Settled: for settle-seconds, no Machine has changed in anything but its heartbeat (health checks and
  // status catch up after the last rollout). The window opens then, whatever the heartbeat timers say.
  const settleStarted = performance.now();
  let lastChangeAt = performance.now();
  let counting = false;
  const windowWrites: string[][] = [];
  watcher.addEventHandler({
    onUpdate: (before, after) => {
      const fields = changedFields(before, after);
      if (counting) windowWrites.push(fields);
      else if (fields.some((field) => field !== HEARTBEAT_FIELD)) lastChangeAt = performance.now();
    },
  });
  const settleDeadline = performance.now() + 10 * settleSeconds * 1000 + 120_000;
  // A fleet that keeps changing is a finding, not a failure: the window opens anyway and says so.
  let settled = true;
  while (performance.now() - lastChangeAt < settleSeconds * 1000) {
    if (performance.now() > settleDeadline) {
      settled = false;
      log('the fleet did not settle: Machines kept changing in more than their heartbeat');
      break;
    }
    await sleep(100);
  }
  const settledAfterSeconds = (performance.now() - settleStarted) / 1000;
  const before = await scrapeWrites(controlPlane.kubeConfig);
  counting = true;
  log(
    `settled ${round(settledAfterSeconds)} s after the last rollout; counting writes for ${steadySeconds} s (heartbeat ${heartbeatSeconds} s)`,
  );
  await sleep(steadySeconds * 1000);
  counting = false;
  const after = await scrapeWrites(controlPlane.kubeConfig);
  const delta: Record<string, number> = {};
  for (const [key, value] of after)
    if (value - (before.get(key) ?? 0) > 0) delta[key] = value - (before.get(key) ?? 0);
  const agentWrites = (delta['machines/status'] ?? 0) + (delta['machines'] ?? 0) + (delta['events'] ?? 0);
  const total = Object.values(delta).reduce((a, b) => a + b, 0);
  const minutes = steadySeconds / 60;
  const tally = tallyWrites(windowWrites);
  await watcher.stop();
  // Each agent process's high-water mark (VmHWM), rollouts included: the largest of them.
  const peakRssMiB = Math.max(...children.map((c) => processUsage(c.pid ?? 0).peakRssMiB));

  console.log(
    JSON.stringify({
      benchmark: 'agent-fleet',
      agents: agentCount,
      agentsPerProcess: perProcess,
      processes: children.length,
      agentProcessesRssMiB: round(rss / 1024, 0),
      agentProcessPeakRssMiBMax: round(peakRssMiB, 1),
      startAndFirstConvergeSeconds: round(firstConvergeSeconds),
      rollouts,
      rolloutConvergeSeconds: rolloutSeconds.map((s) => round(s)),
      rolloutConvergeSecondsMedian: round(median(rolloutSeconds)),
      targetConvergeSeconds: 60,
      heartbeatSeconds,
      heartbeat:
        heartbeatFlag === undefined
          ? `the shipped --heartbeat-seconds (${shippedHeartbeatSeconds} s)`
          : `--heartbeat-seconds=${heartbeatFlag}, shorter than the shipped ${shippedHeartbeatSeconds} s: heartbeats weigh ${round(shippedHeartbeatSeconds / heartbeatSeconds, 1)}× what they do as shipped`,
      settled,
      settledAfterSeconds: round(settledAfterSeconds),
      steadySeconds,
      steadyHeartbeatPeriods: round(steadySeconds / heartbeatSeconds, 2),
      // apiserver_request_total: every write request, a no-op write included.
      steadyWritesByResource: delta,
      steadyWritesPerAgentPerMinute: round(agentWrites / agentCount / minutes, 3),
      steadyAllWritesPerAgentPerMinute: round(total / agentCount / minutes, 3),
      // The watch: every write that changed a Machine, by the fields it changed.
      steadyMachineWritesSeen: windowWrites.length,
      steadyMachineWritesSeenPerAgentPerMinute: round(windowWrites.length / agentCount / minutes, 3),
      steadyHeartbeatOnlyWrites: windowWrites.filter((f) => f.length === 1 && f[0] === HEARTBEAT_FIELD)
        .length,
      steadyMachineWritesByChange: tally.byChange,
      steadyMachineWritesByField: tally.byField,
      targetWritesPerAgentPerMinute: 1,
      totalSeconds: round((performance.now() - began) / 1000),
    }),
  );
} finally {
  await stopNodeAgents(children, rootsDir, machines);
  await payload?.close();
  admin.close();
  await controlPlane.stop();
  rmSync(rootsDir, { recursive: true, force: true });
}
