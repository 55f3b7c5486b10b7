/**
 * NodePool rollouts against a real apiserver with kwok Nodes: canary waves
 * with pauseAfter and resume, maxUnavailable sampled every 200 ms, a failure
 * with autoRollback, a machine that never converges failed by the progress
 * deadline (and shown failed on its Machine), and the version-skew guard.
 */
import { findCondition, MachineConditions, NodePoolConditions, templateRevision } from '@kok/api';
import type { Machine, NodePool } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import type { Manager } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { EventsV1Event, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType, OperatorAnnotations } from '../shared/resources.ts';
import { AgentSimulator, DOWNLOAD_FAILED } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from '../test-support/fleet.ts';
import type { Fleet } from '../test-support/fleet.ts';
import { InvariantPoller } from '../test-support/invariant-poller.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startOperator(fleet: Fleet, poolPassIntervalMs?: number): Promise<Manager> {
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    ...(poolPassIntervalMs === undefined ? {} : { poolPassIntervalMs }),
    logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());
  return manager;
}

async function fleetOf(count: number, version: string): Promise<Fleet> {
  await installCrds(client);
  const fleet = await createFleet(client, count, kubeletTemplate(version));
  cleanups.push(() => deleteFleet(client, fleet));
  return fleet;
}

function startAgent(
  fleet: Fleet,
  failAt?: Map<string, string>,
  stuckAt?: Map<string, string>,
): AgentSimulator {
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
    ...(failAt ? { failAt } : {}),
    ...(stuckAt ? { stuckAt } : {}),
  }).start();
  cleanups.push(() => agent.stop());
  return agent;
}

const getPool = (fleet: Fleet): Promise<NodePool & KubernetesObject> =>
  client.get(nodePoolType, { name: fleet.pool });
const machinesOf = async (fleet: Fleet): Promise<Machine[]> =>
  (await client.list(machineType, { labelSelector: fleet.selector })).items;
const setTemplate = (fleet: Fleet, version: string): Promise<unknown> =>
  client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate(version) },
  });

async function poolSettledAt(fleet: Fleet, revision: string): Promise<void> {
  await eventually(
    `pool at revision ${revision}`,
    async () => (await getPool(fleet)).status?.currentRevision === revision,
  );
}

describe('NodePool rollout', () => {
  it('rolls a new revision in waves [1 + pauseAfter], [25%], [rest] under maxUnavailable 2, stopping after the canary until resumed', async () => {
    const fleet = await fleetOf(10, 'v1.36.0');
    startAgent(fleet);
    const spec: NodePool['spec'] = {
      template: kubeletTemplate('v1.36.0'),
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: 2 } },
        waves: [
          { name: 'canary', percent: 10, pauseAfter: true },
          { name: 'quarter', percent: 25 },
        ],
      },
    };
    await createPool(client, fleet, spec);
    // Passes 200 ms apart, not 1 s: ten machines two at a time took 30 s, three times that on a loaded
    // machine, against the 120 s a test has.
    await startOperator(fleet, 200);
    await poolSettledAt(fleet, templateRevision(kubeletTemplate('v1.36.0')));

    const poller = new InvariantPoller(client, fleet.selector).start();
    cleanups.push(async () => poller.stop());
    const target = templateRevision(kubeletTemplate('v1.36.1'));
    await setTemplate(fleet, 'v1.36.1');

    const paused = await eventually('the pool to pause itself after the canary', async () => {
      const pool = await getPool(fleet);
      return pool.spec.paused === true && pool.status?.updatedMachines === 1 ? pool : undefined;
    });
    expect(paused.status?.currentWave).toBe(0);
    // The other machines say they wait for a resume past the canary, and how to give it: written by the
    // passes after the one that paused the pool, which a loaded operator may take a while to make.
    const held = await eventually('the machines held after the canary to say so', async () => {
      const machines = await machinesOf(fleet);
      const waiting = machines.filter((m) => m.spec?.revision !== target);
      return waiting.every((m) => m.status?.waitingFor?.reason === 'AwaitingResume') ? machines : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await machinesOf(fleet)).filter((m) => m.spec?.revision === target)).toHaveLength(1);
    for (const machine of held.filter((m) => m.spec?.revision !== target))
      expect(machine.status?.waitingFor).toMatchObject({
        reason: 'AwaitingResume',
        message: expect.stringContaining(
          `holds after wave "canary" (waves[0]) (pauseAfter: true) until a person resumes it. Check that wave, then run kubectl kok nodepool resume ${fleet.pool} to start "quarter" (waves[1])`,
        ),
      });
    expect((await getPool(fleet)).status?.updatedMachines).toBe(1);
    // The pool's Paused condition agrees with its machines: it awaits a resume past the canary, not a person's pause.
    const pausedCondition = await eventually('the Paused condition to await a resume', async () => {
      const condition = findCondition((await getPool(fleet)).status?.conditions, NodePoolConditions.Paused);
      return condition?.status === 'True' ? condition : undefined;
    });
    expect(pausedCondition).toMatchObject({
      reason: 'AwaitingResume',
      message: expect.stringContaining(
        `paused after "canary" (waves[0]) (pauseAfter: true): at "canary" (waves[0]), 1/10 machines updated`,
      ),
    });
    expect(pausedCondition.message).toContain(
      `then run kubectl kok nodepool resume ${fleet.pool} to start "quarter" (waves[1])`,
    );

    await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, { spec: { paused: false } });
    await poolSettledAt(fleet, target);
    poller.stop();

    const done = await getPool(fleet);
    expect(done.status?.updatedMachines).toBe(10);
    expect(done.spec.paused).toBe(false);
    expect(findCondition(done.status?.conditions, NodePoolConditions.RollingOut)?.reason).toBe('Complete');
    const nodes = (await client.list(builtinTypes.node, { labelSelector: fleet.selector })).items;
    expect(nodes.every((n) => n.spec?.unschedulable !== true)).toBe(true);
    expect(poller.samples).toBeGreaterThan(10);
    expect(poller.maxDisrupted, `disrupted at once: ${poller.worst.join(', ')}`).toBeLessThanOrEqual(2);
    expect(poller.maxDisrupted).toBeGreaterThanOrEqual(1);

    // The pool's Events are recorded right after the status write that the wait above saw.
    const reasons = await eventually('RolloutComplete among the pool Events', async () => {
      const events = await client.list(builtinTypes.event, { fieldSelector: `regarding.name=${fleet.pool}` });
      const seen = new Set(events.items.map((e: EventsV1Event) => e.reason));
      return seen.has('RolloutComplete') ? seen : undefined;
    });
    expect(reasons).toContain('WaveCompleted');
  });

  it('pauses itself and sends a failed machine back to the old revision (maxFailed 0, autoRollback)', async () => {
    const fleet = await fleetOf(4, 'v1.36.0');
    const old = templateRevision(kubeletTemplate('v1.36.0'));
    const target = templateRevision(kubeletTemplate('v1.36.2'));
    const failing = fleet.machines[0] as string;
    startAgent(fleet, new Map([[failing, target]]));
    await createPool(client, fleet, {
      template: kubeletTemplate('v1.36.0'),
      rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } }, maxFailed: 0, autoRollback: true },
    });
    await startOperator(fleet);
    await poolSettledAt(fleet, old);

    await setTemplate(fleet, 'v1.36.2');
    const pool = await eventually('the pool to roll back', async () => {
      const p = await getPool(fleet);
      return findCondition(p.status?.conditions, NodePoolConditions.RolledBack)?.status === 'True'
        ? p
        : undefined;
    });
    const pausedCondition = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
    expect(pausedCondition?.status).toBe('True');
    expect(pausedCondition?.reason).toBe('RolledBack');
    const rolledBack = findCondition(pool.status?.conditions, NodePoolConditions.RolledBack);
    expect(rolledBack?.message).toContain(failing);
    expect(rolledBack?.message).toContain('maxFailed 0');
    // The agent reported this failure on the Machine itself: the rollout does not repeat it.
    const reported = await client.get(machineType, { name: failing });
    expect(findCondition(reported.status?.conditions, MachineConditions.RolloutFailed)).toBeUndefined();

    const back = await eventually('the failed machine to run the old revision again', async () => {
      const m = await client.get(machineType, { name: failing });
      return m.spec?.revision === old && m.status?.revision?.current === old ? m : undefined;
    });
    expect(back.spec?.components).toEqual(kubeletTemplate('v1.36.0').components);
    await eventually(
      'its Node uncordoned',
      async () => (await client.get(builtinTypes.node, { name: failing })).spec?.unschedulable !== true,
    );
    const others = (await machinesOf(fleet)).filter((m) => m.metadata?.name !== failing);
    expect(others.every((m) => m.spec?.revision === old)).toBe(true);
    expect((await getPool(fleet)).status?.currentRevision).toBe(old);
  });

  it('fails a machine that never converges once progressDeadlineSeconds pass: pauses at maxFailed 0, then autoRollback sends it back', async () => {
    const fleet = await fleetOf(3, 'v1.36.0');
    const old = templateRevision(kubeletTemplate('v1.36.0'));
    const target = templateRevision(kubeletTemplate('v1.36.3'));
    const stuck = fleet.machines[0] as string;
    startAgent(fleet, undefined, new Map([[stuck, target]]));
    await createPool(client, fleet, {
      template: kubeletTemplate('v1.36.0'),
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: 1 } },
        maxFailed: 0,
        autoRollback: false,
        progressDeadlineSeconds: 3,
      },
    });
    await startOperator(fleet);
    await poolSettledAt(fleet, old);

    await setTemplate(fleet, 'v1.36.3');
    const pool = await eventually('the pool to pause for the stuck machine', async () => {
      const p = await getPool(fleet);
      return findCondition(p.status?.conditions, NodePoolConditions.Paused)?.reason === 'TooManyFailures'
        ? p
        : undefined;
    });
    const paused = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
    expect(paused?.message).toContain(`${stuck} (ProgressDeadlineExceeded`);
    expect(paused?.message).toContain(`AgentReady False ${DOWNLOAD_FAILED}`);
    expect(paused?.message).toContain('maxFailed 0');
    expect(pool.status?.failedMachines).toBe(1);
    // Not before its deadline: the pause is at least 3 s after the revision was handed out (to the second).
    const machine = await client.get(machineType, { name: stuck });
    expect(machine.spec?.revision).toBe(target);
    const assigned = Date.parse(
      (machine.metadata?.annotations?.[OperatorAnnotations.revisionAssigned] ?? '').split('/')[1] ?? '',
    );
    expect(Date.parse(paused?.lastTransitionTime ?? '')).toBeGreaterThanOrEqual(
      Math.floor((assigned + 3_000) / 1_000) * 1_000,
    );
    // Paused: the stuck machine holds the only place, so nobody else was started.
    const others = (await machinesOf(fleet)).filter((m) => m.metadata?.name !== stuck);
    expect(others.every((m) => m.spec?.revision === old)).toBe(true);

    // The agent never said it failed; the Machine says so all the same, with the rollout's reason.
    const shown = await eventually('the stuck Machine to show phase Failed', async () => {
      const m = await client.get(machineType, { name: stuck });
      return m.status?.phase === 'Failed' ? m : undefined;
    });
    const rolloutFailed = findCondition(shown.status?.conditions, MachineConditions.RolloutFailed);
    expect(rolloutFailed).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(rolloutFailed?.message).toContain(`not healthy at revision ${target} 3s after it was told`);
    expect(rolloutFailed?.message).toContain(`AgentReady False ${DOWNLOAD_FAILED}`);
    expect(shown.status?.components?.some((c) => c.state === 'Failed')).toBe(false);

    await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
      spec: { rollout: { autoRollback: true } },
    });
    const rolledBack = await eventually('the pool to roll the stuck machine back', async () => {
      const p = await getPool(fleet);
      return findCondition(p.status?.conditions, NodePoolConditions.RolledBack)?.status === 'True'
        ? p
        : undefined;
    });
    expect(findCondition(rolledBack.status?.conditions, NodePoolConditions.RolledBack)?.message).toContain(
      'ProgressDeadlineExceeded',
    );
    await eventually('the stuck machine to run the old revision again', async () => {
      const m = await client.get(machineType, { name: stuck });
      return m.spec?.revision === old && m.status?.revision?.current === old;
    });
    // Sent back, it no longer counts as failed: the condition goes and the phase follows.
    await eventually('the sent-back Machine to drop RolloutFailed and show Ready', async () => {
      const m = await client.get(machineType, { name: stuck });
      return (
        findCondition(m.status?.conditions, MachineConditions.RolloutFailed) === undefined &&
        m.status?.phase === 'Ready'
      );
    });
    const back = await client.get(machineType, { name: stuck });
    // Sent back means told anew: the clock restarts for the old revision.
    expect(back.metadata?.annotations?.[OperatorAnnotations.revisionAssigned]).toMatch(
      new RegExp(`^${old}/`),
    );
    expect((await machinesOf(fleet)).every((m) => m.spec?.revision === old)).toBe(true);
  });

  it('keeps the progress clock across an operator restart: a deadline that passed while it was down fires at once', async () => {
    const fleet = await fleetOf(2, 'v1.36.0');
    const old = templateRevision(kubeletTemplate('v1.36.0'));
    const target = templateRevision(kubeletTemplate('v1.36.4'));
    const stuck = fleet.machines[0] as string;
    startAgent(fleet, undefined, new Map([[stuck, target]]));
    await createPool(client, fleet, {
      template: kubeletTemplate('v1.36.0'),
      rollout: { maxFailed: 0, progressDeadlineSeconds: 5 },
    });
    const first = await startOperator(fleet);
    await poolSettledAt(fleet, old);

    await setTemplate(fleet, 'v1.36.4');
    const record = await eventually('the stuck machine to be told the new revision', async () => {
      const m = await client.get(machineType, { name: stuck });
      return m.spec?.revision === target
        ? m.metadata?.annotations?.[OperatorAnnotations.revisionAssigned]
        : undefined;
    });
    await first.stop();
    const assigned = Date.parse(record.split('/')[1] ?? '');
    expect(findCondition((await getPool(fleet)).status?.conditions, NodePoolConditions.Paused)?.status).toBe(
      'False',
    );

    // Down past the deadline; a new process must find it spent, not start a fresh 5 s.
    await new Promise((r) => setTimeout(r, Math.max(0, assigned + 5_500 - Date.now())));
    const restartedAt = Date.now();
    await startOperator(fleet);
    const pool = await eventually('the restarted operator to pause the pool', async () => {
      const p = await getPool(fleet);
      return findCondition(p.status?.conditions, NodePoolConditions.Paused)?.reason === 'TooManyFailures'
        ? p
        : undefined;
    });
    const paused = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
    expect(paused?.message).toContain(`${stuck} (ProgressDeadlineExceeded`);
    expect(Date.parse(paused?.lastTransitionTime ?? '')).toBeLessThan(restartedAt + 5_000);
    const after = await client.get(machineType, { name: stuck });
    expect(after.metadata?.annotations?.[OperatorAnnotations.revisionAssigned]).toBe(record);
  });

  it('holds a pool whose kubelet would be newer than the apiserver, and says why', async () => {
    const fleet = await fleetOf(2, 'v1.36.0');
    startAgent(fleet);
    await createPool(client, fleet, { template: kubeletTemplate('v1.36.0') });
    await startOperator(fleet);
    await poolSettledAt(fleet, templateRevision(kubeletTemplate('v1.36.0')));

    await setTemplate(fleet, 'v1.99.0');
    const pool = await eventually('the skew guard to hold the pool', async () => {
      const p = await getPool(fleet);
      return findCondition(p.status?.conditions, NodePoolConditions.Paused)?.reason === 'VersionSkew'
        ? p
        : undefined;
    });
    expect(findCondition(pool.status?.conditions, NodePoolConditions.Paused)?.message).toMatch(
      /newer than the apiserver/,
    );
    expect(findCondition(pool.status?.conditions, NodePoolConditions.Degraded)?.status).toBe('True');
    expect(
      (await machinesOf(fleet)).every(
        (m) => m.spec?.revision === templateRevision(kubeletTemplate('v1.36.0')),
      ),
    ).toBe(true);
    // Each Machine names the guard, not merely a paused pool.
    await eventually('every machine to say the skew guard holds it', async () =>
      (await machinesOf(fleet)).every(
        (m) =>
          m.status?.waitingFor?.reason === 'VersionSkew' &&
          m.status.waitingFor.message.includes('held by the version-skew guard'),
      ),
    );
  });
});
