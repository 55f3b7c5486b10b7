import { describe, expect, it } from 'vitest';
import type { RolloutPlan } from './rollout-plan.ts';
import { FleetSimulator, type SimulatedHost } from './test-support/fleet-simulator.ts';

const hosts = (
  count: number,
  extra: (index: number) => Partial<SimulatedHost> = () => ({}),
): SimulatedHost[] =>
  Array.from({ length: count }, (_, index) => ({ name: `worker-${index + 1}`, ...extra(index) }));

/** Steps until `stop` says so or `limit` steps have passed; returns the plans made. */
function stepUntil(
  simulator: FleetSimulator,
  stop: (plan: RolloutPlan) => boolean,
  limit = 500,
): RolloutPlan[] {
  const plans: RolloutPlan[] = [];
  for (let i = 0; i < limit; i++) {
    const { plan } = simulator.step();
    plans.push(plan);
    if (stop(plan)) break;
  }
  return plans;
}

const onTarget = (simulator: FleetSimulator): string[] =>
  simulator
    .machines()
    .filter((m) => m.currentRevision === 'r2')
    .map((m) => m.name);

describe('rollout scenarios, step by step', () => {
  it('rolls a canary, waits for a person at the pauseAfter boundary, and finishes after the resume', () => {
    const simulator = new FleetSimulator({
      spec: { maxUnavailable: 3, waves: [{ name: 'canary', count: 2, pauseAfter: true }] },
      hosts: hosts(10),
    });
    const plans = stepUntil(simulator, () => false, 60);
    expect(onTarget(simulator)).toEqual(['worker-1', 'worker-2']);
    expect(plans.at(-1)?.pause?.reason).toBe('AwaitingResume');
    expect(plans.at(-1)?.currentWave).toBe(0);

    simulator.resumedAfterWave = 0;
    const rest = stepUntil(simulator, (plan) => plan.complete);
    expect(rest.at(-1)?.complete).toBe(true);
    expect(onTarget(simulator)).toHaveLength(10);
    // The window slides: more than one machine was in flight at once, never more than maxUnavailable.
    const widest = Math.max(...rest.map((plan) => plan.counts.unavailableMachines));
    expect(widest).toBeGreaterThan(1);
    expect(widest).toBeLessThanOrEqual(3);
  });

  it('does not start the next wave before the bake is over', () => {
    const simulator = new FleetSimulator({
      spec: { maxUnavailable: 1, waves: [{ count: 1, bakeSeconds: 600 }] },
      hosts: hosts(3),
      stepMillis: 60_000,
    });
    const plans = stepUntil(simulator, (plan) => plan.complete);
    const worker1Finished = simulator.machine('worker-1').finishedAt as number;
    const worker2Started = simulator.machine('worker-2').startedAt as number;
    expect(worker2Started).toBeGreaterThanOrEqual(worker1Finished + 600_000);
    const baking = plans.filter((plan) => plan.pause?.reason === 'Baking');
    expect(baking.length).toBeGreaterThanOrEqual(9);
    expect(baking.every((plan) => plan.wakeAt === worker1Finished + 600_000)).toBe(true);
  });

  it('pauses the pool when failures exceed maxFailed and holds there, naming the failed machines', () => {
    const simulator = new FleetSimulator({
      spec: { maxUnavailable: 2, maxFailed: 1 },
      hosts: hosts(8, (index) => ({ failsAt: index === 1 || index === 2 ? ['r2'] : [] })),
    });
    const plans = stepUntil(simulator, () => false, 80);
    const last = plans.at(-1);
    expect(last?.pause?.reason).toBe('FailureBudgetExceeded');
    expect(last?.message).toContain(
      '2 machines failed at revision r2 (maxFailed 1): worker-2 (kubelet: exec check exited 1), worker-3',
    );
    // Nothing started once the budget was spent; the failed machines stay out of service for a person to look at.
    expect(onTarget(simulator)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(simulator.machine('worker-2').cordoned).toBe(true);
  });

  it('rolls back on failure with autoRollback and stays on the last good revision', () => {
    const simulator = new FleetSimulator({
      spec: { maxUnavailable: 2, autoRollback: true, waves: [{ count: 3 }] },
      hosts: hosts(8, (index) => ({ failsAt: index === 2 ? ['r2'] : [] })),
    });
    const plans = stepUntil(simulator, () => false, 80);
    const rollback = plans.find((plan) => plan.rollback);
    expect(rollback?.rollback).toEqual({ fromRevision: 'r2', toRevision: 'r1', machines: ['worker-3'] });
    expect(simulator.rolledBack).toBe(true);
    const machines = simulator.machines();
    expect(machines.map((m) => [m.name, m.currentRevision, m.cordoned])).toEqual([
      ['worker-1', 'r2', false],
      ['worker-2', 'r2', false],
      ['worker-3', 'r1', false],
      ...hosts(8)
        .slice(3)
        .map((host) => [host.name, 'r1', false]),
    ]);
    expect(plans.at(-1)?.pause?.reason).toBe('RolledBack');
  });

  it('counts remediation and dead hosts against the same budget as the rollout', () => {
    const simulator = new FleetSimulator({ spec: { maxUnavailable: 2 }, hosts: hosts(6) });
    const { plan } = simulator.step([
      { kind: 'remediation', host: 4, steps: 100 },
      { kind: 'nodeNotReady', host: 5, steps: 100 },
    ]);
    expect(plan.cordon).toEqual(['worker-1', 'worker-2']);
    // From now on two machines are down for other reasons: only worker-6, already down, may still be updated.
    const next = stepUntil(simulator, () => false, 20);
    for (const later of next) expect(later.counts.unavailableMachines).toBeLessThanOrEqual(4);
    expect(next.flatMap((later) => later.cordon)).toEqual(['worker-6']);
  });
});
