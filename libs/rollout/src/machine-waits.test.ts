import { describe, expect, it } from 'vitest';
import { planRollout } from './plan-rollout.ts';
import type { RolloutInput } from './rollout-plan.ts';
import type { MachineState } from './machine-state.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import { doneAtTarget, machine, NOW, workers } from './test-support/machines.ts';
import type { WaitReason } from './wait-reasons.ts';

function waiting(machines: MachineState[], spec: RolloutSpec = {}, extra: Partial<RolloutInput> = {}) {
  const plan = planRollout({
    pool: 'workers',
    spec,
    targetRevision: 'r2',
    lastGoodRevision: 'r1',
    machines,
    now: NOW,
    ...extra,
  });
  return Object.fromEntries(plan.waiting.map(({ machine: name, reason }) => [name, reason]));
}

describe('planRollout: what holds each machine not at the target', () => {
  it('names the machines holding a full budget, this plan’s starts included; starters and finished ones wait for nothing', () => {
    const result = waiting(
      [doneAtTarget('worker-1'), machine('worker-2', { ready: false }), ...workers(4).slice(2)],
      { maxUnavailable: 2 },
    );
    const budgetFull: WaitReason = {
      kind: 'BudgetFull',
      maxUnavailable: 2,
      holders: ['worker-2', 'worker-3'],
      holderCount: 2,
    };
    expect(result).toEqual({ 'worker-4': budgetFull });
  });

  it('says which wave a machine waits for and which one is rolling out, then the pauseAfter hold', () => {
    const spec: RolloutSpec = { waves: [{ name: 'canary', count: 1, pauseAfter: true }] };
    expect(waiting(workers(3), spec)).toEqual({
      'worker-2': {
        kind: 'WaitingForWave',
        wave: 'waves[1] (remaining machines)',
        currentWave: '"canary" (waves[0])',
      },
      'worker-3': {
        kind: 'WaitingForWave',
        wave: 'waves[1] (remaining machines)',
        currentWave: '"canary" (waves[0])',
      },
    });
    const afterCanary = waiting([doneAtTarget('worker-1'), ...workers(3).slice(1)], spec);
    const awaitingResume: WaitReason = {
      kind: 'AwaitingResume',
      wave: '"canary" (waves[0])',
      nextWave: 'waves[1] (remaining machines)',
    };
    expect(afterCanary).toEqual({ 'worker-2': awaitingResume, 'worker-3': awaitingResume });
  });

  it('holds the next wave while the last one bakes, until the bake ends', () => {
    const finishedAt = NOW - 60_000;
    const result = waiting([doneAtTarget('worker-1', { finishedAt }), machine('worker-2')], {
      waves: [{ count: 1, bakeSeconds: 600 }],
    });
    expect(result).toEqual({
      'worker-2': { kind: 'Baking', wave: 'waves[0]', until: finishedAt + 600_000 },
    });
  });

  it('holds every machine not told the target while paused, and lets one converging finish without a reason', () => {
    const result = waiting(
      [machine('worker-1', { desiredRevision: 'r2' }), machine('worker-2'), doneAtTarget('worker-3')],
      { paused: true },
    );
    expect(result).toEqual({ 'worker-2': { kind: 'Paused' } });
  });

  it('says a pool the caller paused after a pauseAfter: true wave waits for a resume past that wave', () => {
    const spec: RolloutSpec = { paused: true, waves: [{ name: 'canary', count: 1, pauseAfter: true }] };
    const machines = [doneAtTarget('worker-1'), machine('worker-2')];
    expect(waiting(machines, spec, { pausedAfterWave: 0 })).toEqual({
      'worker-2': {
        kind: 'AwaitingResume',
        wave: '"canary" (waves[0])',
        nextWave: 'waves[1] (remaining machines)',
      },
    });
    expect(waiting(machines, spec)).toEqual({ 'worker-2': { kind: 'Paused' } });
  });

  it('gives a machine told the target its own hold: a failure, a remediation, an unmet health gate', () => {
    const result = waiting(
      [
        machine('worker-1', { desiredRevision: 'r2', unmetHealthGates: ['KernelDeadlock=False'] }),
        machine('worker-2', { desiredRevision: 'r2', underRemediation: true }),
        machine('worker-3', {
          desiredRevision: 'r2',
          failedRevision: 'r2',
          failureMessage: 'kubelet: exit 1',
        }),
        machine('worker-4', { cordoned: true }),
      ],
      { maxUnavailable: 5, maxFailed: 1 },
    );
    expect(result).toEqual({
      'worker-1': { kind: 'HealthGate', gates: ['KernelDeadlock=False'] },
      'worker-2': { kind: 'UnderRemediation' },
      'worker-3': { kind: 'Failed', revision: 'r2', detail: 'kubelet: exit 1' },
      'worker-4': { kind: 'CordonedOutsideRollout' },
    });
  });

  it('holds the rest of the pool with the failures that spent the budget, or the rollback that followed', () => {
    const machines = [
      machine('worker-1', { desiredRevision: 'r2', failedRevision: 'r2', failureMessage: 'kubelet: exit 1' }),
      machine('worker-2'),
    ];
    expect(waiting(machines)).toEqual({
      'worker-1': { kind: 'Failed', revision: 'r2', detail: 'kubelet: exit 1' },
      'worker-2': {
        kind: 'FailureBudgetExceeded',
        revision: 'r2',
        failed: ['worker-1'],
        failedCount: 1,
        maxFailed: 0,
      },
    });
    const rolledBack: WaitReason = { kind: 'RolledBack', revision: 'r2', toRevision: 'r1' };
    expect(waiting(machines, { autoRollback: true })).toEqual({
      'worker-1': rolledBack,
      'worker-2': rolledBack,
    });
  });

  it('holds every machine with the problems of a spec it cannot act on', () => {
    expect(waiting(workers(1), { maxFailed: -1 })).toEqual({
      'worker-1': {
        kind: 'InvalidSpec',
        problems: ['rollout.maxFailed must be a whole number (0 or more), got -1'],
      },
    });
  });
});
