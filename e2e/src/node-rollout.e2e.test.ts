/**
 * A NodePool rollout end to end, with nothing simulated on kok's side: a real
 * kube-apiserver with kwok, the node-operator as a process, and one REAL
 * node-agent process per Machine, each with its own --root. What the agents
 * install are the node-agent's test stand-ins (a kubelet SIMULATOR that
 * registers a kwok Node reporting its own kubeletVersion, and a containerd
 * SIMULATOR), downloaded from a local artifact server with sha256 checks.
 *
 * The scenarios build on each other, in order:
 *   1. bring-up: every machine Ready at revision 1, Nodes at the first kubelet version;
 *   2. waves [1 + pauseAfter], [25%], [rest] under maxUnavailable 2: stops after the
 *      canary, completes once resumed;
 *   3. a version whose health check fails, maxFailed 1 + autoRollback: one failure is tolerated,
 *      the next pauses the pool and every failed machine runs the old version again;
 *   4. a version whose artifact 404s, maxFailed 0 + autoRollback and a short progress deadline: the
 *      machine that cannot download it fails at the deadline, the pool pauses and rolls it back;
 *   5. the operator SIGKILLed 5 times during a rollout: it completes.
 * From 2 on, a 200 ms poller (Nodes + Machines) and the operator's own
 * kok_nodepool_disrupted_machines metric must never see more than 2.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import {
  CLUSTERS_GROUP,
  componentType,
  findCondition,
  machineType,
  NodePoolConditions,
  nodePoolType,
  NODES_GROUP,
  templateRevision,
} from '@kok/api';
import type { MachineObject, NodePoolObject, NodePoolTemplate } from '@kok/api';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import type {} from '@kok/testing/global-setup';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHost, Catalog } from '../../apps/node-agent/src/fixtures/agent-hosts.ts';
import { installAgentAccess } from './support/agent-access.ts';
import { createBootstrapKubeconfig } from '../../apps/node-agent/src/fixtures/bootstrap-kubeconfig.ts';
import {
  agentLogTail,
  startAgentHost,
  startCatalog,
  stopAgentHost,
  stopProcess,
} from '../../apps/node-agent/src/fixtures/agent-hosts.ts';
import { DisruptionWatch } from './support/disruption-watch.ts';
import { eventually, freePort, installCrds } from '@kok/testing';
import { startOperatorProcess } from './support/operator-process.ts';

/** Machines (each a real agent plus two stand-in services); at least 8 keeps every wave meaningful. */
const MACHINES = Number(process.env.KOK_E2E_MACHINES ?? 20);
const MAX_UNAVAILABLE = 2;
const POOL = 'e2e-pool';
const CONTAINERD = '1.7.21';
const KUBELET = {
  first: 'v1.36.1',
  second: 'v1.36.2',
  broken: 'v1.36.3',
  missing: 'v1.36.5',
  last: 'v1.36.4',
} as const;

const template = (kubelet: string): NodePoolTemplate => ({
  components: [
    { name: 'kubelet', version: kubelet },
    { name: 'containerd', version: CONTAINERD },
  ],
});
const revisionOf = (kubelet: string): string => templateRevision(template(kubelet));

const names = Array.from({ length: MACHINES }, (_, i) => `e2e-m${String(i).padStart(2, '0')}`);
let client: KubeClient;
let workDir: string;
let catalog: Catalog | undefined;
const hosts: AgentHost[] = [];
let operator: ChildProcess | undefined;
let metricsPort: number;
let watch: DisruptionWatch | undefined;
/** The scenarios build on the bring-up; the later ones fail at once without it instead of timing out. */
let broughtUp = false;

function runOperator(): ChildProcess {
  operator = startOperatorProcess({
    kubeconfigPath: sharedKubeconfigPath(),
    metricsPort,
    logFile: join(workDir, 'operator.log'),
  });
  return operator;
}

const getPool = (): Promise<NodePoolObject> => client.get(nodePoolType, { name: POOL });

async function ourMachines(): Promise<MachineObject[]> {
  const wanted = new Set(names);
  return (await client.list(machineType)).items.filter((m) => wanted.has(m.metadata?.name ?? ''));
}

async function ourNodes(): Promise<V1Node[]> {
  const wanted = new Set(names);
  return (await client.list(builtinTypes.node)).items.filter((n) => wanted.has(n.metadata?.name ?? ''));
}

/** The pool's last good revision is `revision` and every machine is told it, runs it, and its Node reports `kubelet`. */
async function fleetSettledAt(kubelet: string, timeoutMs: number): Promise<void> {
  const revision = revisionOf(kubelet);
  await eventually(
    `every machine at ${kubelet} (revision ${revision})`,
    async () => {
      await refreshSummary();
      if ((await getPool()).status?.currentRevision !== revision) return false;
      const machines = await ourMachines();
      const nodes = await ourNodes();
      return (
        machines.length === MACHINES &&
        machines.every((m) => m.spec?.revision === revision && m.status?.revision?.current === revision) &&
        nodes.length === MACHINES &&
        nodes.every((n) => n.status?.nodeInfo?.kubeletVersion === kubelet)
      );
    },
    timeoutMs,
    {
      intervalMs: 250,
      context: () =>
        `${summary()}\nlast agent log (${hosts[0]?.machine}):\n${hosts[0] ? agentLogTail(hosts[0]) : ''}`,
    },
  );
}

let lastSummary = '';
function summary(): string {
  return lastSummary;
}
async function refreshSummary(): Promise<void> {
  const machines = await ourMachines();
  const counts = new Map<string, number>();
  for (const m of machines) {
    const key = `${m.spec?.revision}→${m.status?.revision?.current}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  lastSummary = `machines (told→running): ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')}`;
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { fieldManager: 'kok-e2e', qps: 200, burst: 400 });
  workDir = mkdtempSync(join(tmpdir(), 'kok-e2e-'));
  metricsPort = await freePort();
  for (const group of [NODES_GROUP, CLUSTERS_GROUP]) await installCrds(client, group);

  catalog = await startCatalog(
    [
      { version: KUBELET.first },
      { version: KUBELET.second },
      { version: KUBELET.broken, unhealthy: true },
      { version: KUBELET.missing, missing: true },
      { version: KUBELET.last },
    ],
    [CONTAINERD],
  );
  for (const [name, spec] of [
    ['kubelet', catalog.kubelet],
    ['containerd', catalog.containerd],
  ] as const)
    await client.create(componentType, {
      apiVersion: componentType.apiVersion,
      kind: componentType.kind,
      metadata: { name },
      spec,
    });
  const first = template(KUBELET.first);
  // Machines start told revision 1 (as an installer would leave them); the pool then owns their spec.
  await Promise.all(
    names.map((name) =>
      client.create(machineType, {
        apiVersion: machineType.apiVersion,
        kind: machineType.kind,
        metadata: { name },
        spec: { pool: POOL, revision: revisionOf(KUBELET.first), components: first.components },
      } as MachineObject),
    ),
  );
  await client.create(nodePoolType, {
    apiVersion: nodePoolType.apiVersion,
    kind: nodePoolType.kind,
    metadata: { name: POOL },
    spec: {
      template: first,
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: MAX_UNAVAILABLE } },
        waves: [
          // Waves use either count or percent; 1% rounds up to a one-machine canary.
          { name: 'canary', percent: 1, pauseAfter: true },
          { name: 'quarter', percent: 25 },
        ],
      },
    },
  } as NodePoolObject);
  runOperator();
  // Each agent gets its own certificate (the operator approves it); the kubelet stand-ins use the admin kubeconfig.
  await installAgentAccess(sharedKubeConfig());
  const credentials = {
    kubeletKubeconfigPath: sharedKubeconfigPath(),
    bootstrapKubeconfig: await createBootstrapKubeconfig(client, sharedKubeConfig(), {
      ttlSeconds: 3600,
      description: 'node-rollout e2e hosts',
    }),
  };
  // Started a few at a time: each agent, kubelet and containerd is a Node.js process on a small machine.
  for (let i = 0; i < names.length; i += 5)
    hosts.push(
      ...(await Promise.all(names.slice(i, i + 5).map((name) => startAgentHost(name, workDir, credentials)))),
    );
});

afterAll(async () => {
  watch?.stop();
  if (operator) await stopProcess(operator);
  await Promise.all(hosts.map((host) => stopAgentHost(host)));
  await catalog?.close();
  if (client) {
    await client.delete(nodePoolType, { name: POOL }).catch(() => undefined);
    await Promise.all(
      names.flatMap((name) => [
        client.delete(machineType, { name }).catch(() => undefined),
        client.delete(builtinTypes.node, { name }).catch(() => undefined),
      ]),
    );
  }
  // KOK_E2E_KEEP=1 keeps the hosts' roots and logs for a look after a failure.
  if (workDir && !process.env.KOK_E2E_KEEP) rmSync(workDir, { recursive: true, force: true });
  else if (workDir) console.log(`[kok-e2e] kept ${workDir}`);
});

describe(`node rollout with ${MACHINES} real node-agent processes and the node-operator process`, () => {
  it('brings every machine up Ready at revision 1, its Node reporting the first kubelet version', async () => {
    const refresher = setInterval(() => void refreshSummary().catch(() => undefined), 2000);
    try {
      await fleetSettledAt(KUBELET.first, 240_000);
    } finally {
      clearInterval(refresher);
    }
    const nodes = await ourNodes();
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(names);
    expect(
      nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    ).toBe(true);
    for (const machine of await ourMachines())
      expect(machine.status?.components?.map((c) => [c.name, c.version, c.state]).sort()).toEqual([
        ['containerd', CONTAINERD, 'Running'],
        ['kubelet', KUBELET.first, 'Running'],
      ]);
    const pool = await getPool();
    expect(pool.status?.readyMachines).toBe(MACHINES);

    broughtUp = true;
    watch = new DisruptionWatch(client, POOL, names, `http://127.0.0.1:${metricsPort}/metrics`).start();
  });

  it('rolls the new kubelet out in waves [1 + pauseAfter], [25%], [rest], stopping after the canary until resumed', async () => {
    expect(broughtUp, 'the fleet never came up at revision 1').toBe(true);
    const target = revisionOf(KUBELET.second);
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: { template: template(KUBELET.second) },
    });
    await eventually(
      'the pool to pause itself after the canary',
      async () => {
        const pool = await getPool();
        return pool.spec.paused === true && pool.status?.updatedMachines === 1;
      },
      120_000,
    );
    // It stays there: nothing else is told the new revision while paused.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const held = await ourMachines();
    expect(held.filter((m) => m.spec?.revision === target)).toHaveLength(1);
    expect(findCondition((await getPool()).status?.conditions, NodePoolConditions.Paused)?.status).toBe(
      'True',
    );

    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, { spec: { paused: false } });
    await fleetSettledAt(KUBELET.second, 240_000);

    const pool = await getPool();
    expect(pool.spec.paused).toBe(false);
    expect(pool.status?.updatedMachines).toBe(MACHINES);
    expect(findCondition(pool.status?.conditions, NodePoolConditions.RollingOut)?.reason).toBe('Complete');
    assertBudgetHeld();
    expect(watch?.apiMax).toBeGreaterThanOrEqual(1); // the poller did see the rollout
  });

  it('tolerates one failure, then pauses itself and sends every machine whose health check fails back to the old version (maxFailed 1, autoRollback)', async () => {
    expect(broughtUp, 'the fleet never came up at revision 1').toBe(true);
    const good = revisionOf(KUBELET.second);
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: {
        template: template(KUBELET.broken),
        // One wave (the canary's pauseAfter would stop the rollout at its first, tolerated, failure).
        rollout: { waves: null, maxFailed: 1, autoRollback: true },
      },
    });
    const pool = await eventually(
      'the pool to roll the broken version back',
      async () => {
        const p = await getPool();
        return findCondition(p.status?.conditions, NodePoolConditions.RolledBack)?.status === 'True'
          ? p
          : undefined;
      },
      150_000,
    );
    const paused = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
    expect(paused?.status).toBe('True');
    expect(paused?.reason).toBe('RolledBack');
    const message = findCondition(pool.status?.conditions, NodePoolConditions.RolledBack)?.message ?? '';
    const failed = names.filter((name) => new RegExp(`\\b${name}\\b`).test(message));
    // The first failure is within maxFailed; the pool stops at the second, and the budget caps how many
    // machines were at the broken version at once.
    expect(failed.length, message).toBeGreaterThan(1);
    expect(failed.length, message).toBeLessThanOrEqual(MAX_UNAVAILABLE);

    // Each agent converges back to what the spec now says and reports the old version running again.
    for (const failing of failed) {
      const back = await eventually(
        `${failing} to run ${KUBELET.second} again`,
        async () => {
          const m = await client.get(machineType, { name: failing });
          const kubelet = m.status?.components?.find((c) => c.name === 'kubelet');
          return m.spec?.revision === good &&
            m.status?.revision?.current === good &&
            kubelet?.version === KUBELET.second &&
            kubelet.state === 'Running'
            ? m
            : undefined;
        },
        60_000,
      );
      expect(back.spec?.components).toEqual(template(KUBELET.second).components);
      await eventually(
        `the Node of ${failing} to report ${KUBELET.second}`,
        async () =>
          (await client.get(builtinTypes.node, { name: failing })).status?.nodeInfo?.kubeletVersion ===
          KUBELET.second,
        30_000,
      );
    }
    // A machine that reached the broken version but had not failed its check yet when the pool rolled back
    // (the planner sends back failed and unfinished machines) goes back once it fails, on a later pass.
    await eventually(
      'every machine back at the good revision',
      async () => (await ourMachines()).every((m) => m.spec?.revision === good),
      60_000,
    );
    expect((await getPool()).status?.currentRevision).toBe(good);
    assertBudgetHeld();
  });

  it('fails a machine whose artifact 404s at its progress deadline, pauses and rolls it back (maxFailed 0, autoRollback)', async () => {
    expect(broughtUp, 'the fleet never came up at revision 1').toBe(true);
    const good = revisionOf(KUBELET.second);
    const deadlineSeconds = 15;
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: {
        template: template(KUBELET.missing),
        paused: false,
        rollout: { waves: null, maxFailed: 0, autoRollback: true, progressDeadlineSeconds: deadlineSeconds },
      },
    });
    const told = Date.now();
    const pool = await eventually(
      'the pool to roll the undownloadable version back',
      async () => {
        const p = await getPool();
        const rolledBack = findCondition(p.status?.conditions, NodePoolConditions.RolledBack);
        return rolledBack?.status === 'True' && rolledBack.message.includes('ProgressDeadlineExceeded')
          ? p
          : undefined;
      },
      150_000,
    );
    // Not before the deadline: until then a machine that cannot download is only slow.
    expect(Date.now() - told).toBeGreaterThanOrEqual(deadlineSeconds * 1000);
    expect(findCondition(pool.status?.conditions, NodePoolConditions.Paused)?.reason).toBe('RolledBack');
    const message = findCondition(pool.status?.conditions, NodePoolConditions.RolledBack)?.message ?? '';
    const failed = names.filter((name) => new RegExp(`\\b${name}\\b`).test(message));
    expect(failed.length, message).toBeGreaterThanOrEqual(1);
    expect(failed.length, message).toBeLessThanOrEqual(MAX_UNAVAILABLE);
    // What it was stuck on is the agent's word at that moment (the failed download, or a pass still
    // retrying it), so only the deadline itself is asserted.
    expect(message, message).toContain('ProgressDeadlineExceeded');

    // The failed machines are told the good revision again and keep running its kubelet.
    await eventually(
      'every machine back at the good revision, running it',
      async () =>
        (await ourMachines()).every((m) => m.spec?.revision === good && m.status?.revision?.current === good),
      60_000,
    );
    for (const name of failed)
      await eventually(
        `${name} to report the ${KUBELET.second} kubelet Running`,
        async () => {
          const machine = await client.get(machineType, { name });
          const kubelet = machine.status?.components?.find((c) => c.name === 'kubelet');
          return kubelet?.version === KUBELET.second && kubelet.state === 'Running';
        },
        60_000,
      );
    expect((await getPool()).status?.currentRevision).toBe(good);
    assertBudgetHeld();
  });

  it('completes a rollout with the budget held while the operator process is SIGKILLed 5 times', async () => {
    expect(broughtUp, 'the fleet never came up at revision 1').toBe(true);
    const target = revisionOf(KUBELET.last);
    await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      // This scenario is about the operator dying, not about failures: a stand-in that fails its first probe
      // while it starts must not spend the previous scenario's failure budget of 1 and roll the pool back.
      spec: {
        template: template(KUBELET.last),
        paused: false,
        rollout: { waves: null, maxFailed: MACHINES, autoRollback: false, progressDeadlineSeconds: null },
      },
    });
    const updatedAtKill: number[] = [];
    for (let kill = 0; kill < 5; kill++) {
      // Each process gets a few seconds (it starts, syncs its caches, plans, writes), then dies mid-work.
      await new Promise((resolve) => setTimeout(resolve, 3_000 + kill * 1_000));
      if (operator) await stopProcess(operator, 'SIGKILL');
      updatedAtKill.push((await ourMachines()).filter((m) => m.status?.revision?.current === target).length);
      runOperator();
    }
    // Every kill landed while the rollout was still under way.
    expect(updatedAtKill, `machines done at each kill: ${updatedAtKill.join(', ')}`).toHaveLength(5);
    expect(updatedAtKill.at(-1)).toBeLessThan(MACHINES);

    // Slow on a loaded 2-core machine: every process restart re-syncs caches and each upgrade restarts a Node.js stand-in.
    await fleetSettledAt(KUBELET.last, 420_000);
    expect((await ourNodes()).every((n) => n.spec?.unschedulable !== true)).toBe(true);
    assertBudgetHeld();
  });
});

function assertBudgetHeld(): void {
  if (!watch) throw new Error('the disruption watch was not started');
  expect(watch.apiSamples, watch.describe()).toBeGreaterThan(10);
  expect(watch.metricSamples, watch.describe()).toBeGreaterThan(10);
  expect(watch.apiMax, watch.describe()).toBeLessThanOrEqual(MAX_UNAVAILABLE);
  expect(watch.metricMax, watch.describe()).toBeLessThanOrEqual(MAX_UNAVAILABLE);
}
