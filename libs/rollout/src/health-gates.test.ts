import { describe, expect, it } from 'vitest';
import { isDoneAt, isHealthyAt, isUnavailable, occupiesBudget, type MachineState } from './machine-state.ts';
import { planRollout } from './plan-rollout.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import { doneAtTarget, machine, NOW } from './test-support/machines.ts';

const GATE_BLOCKER =
  'health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked for more than 120 seconds)';
/** Told r2 at `startedAt`, the agent runs it, but the Node reports a kernel deadlock. */
const gated = (name: string, overrides: Partial<MachineState> = {}): MachineState =>
  doneAtTarget(name, {
    startedAt: NOW - 1_000_000,
    finishedAt: NOW - 900_000,
    unmetHealthGates: ['KernelDeadlock=False'],
    progressBlocker: GATE_BLOCKER,
    ...overrides,
  });

describe('a health gate that is not met', () => {
  it.each<[string, MachineState, { healthy: boolean; unavailable: boolean; occupies: boolean }]>([
    [
      'every gate met',
      doneAtTarget('m', { unmetHealthGates: [] }),
      { healthy: true, unavailable: false, occupies: false },
    ],
    ['a gate unmet at the target', gated('m'), { healthy: false, unavailable: true, occupies: true }],
    [
      'a gate unmet on a machine the rollout has not reached',
      machine('m', { unmetHealthGates: ['KernelDeadlock=False'] }),
      { healthy: false, unavailable: true, occupies: true },
    ],
  ])('%s', (_case, state, expected) => {
    expect(isHealthyAt(state, state.currentRevision)).toBe(expected.healthy);
    expect(isUnavailable(state)).toBe(expected.unavailable);
    expect(occupiesBudget(state)).toBe(expected.occupies);
  });

  it('keeps a machine that runs the target from counting as done', () => {
    expect(isDoneAt(gated('m'), 'r2')).toBe(false);
    expect(isDoneAt(gated('m', { unmetHealthGates: undefined }), 'r2')).toBe(true);
  });
});

describe('planRollout with health gates', () => {
  const plan = (machines: MachineState[], spec: RolloutSpec = {}) =>
    planRollout({
      pool: 'workers',
      spec: { progressDeadlineSeconds: 600, ...spec },
      targetRevision: 'r2',
      lastGoodRevision: 'r1',
      machines,
      now: NOW,
    });

  it('holds the budget place and the rollout cordon of a machine whose gate is unmet, before its deadline', () => {
    const result = plan([
      gated('worker-1', { startedAt: NOW - 1_000, cordoned: true, cordonedByRollout: true }),
      machine('worker-2'),
    ]);
    expect(result.pause).toBeUndefined();
    expect(result.uncordon).toEqual([]);
    expect(result.cordon).toEqual([]);
    expect(result.complete).toBe(false);
    expect(result.message).toContain(
      'worker-1 (health gate KernelDeadlock=False not met, cordoned for the rollout)',
    );
    expect(result.wakeAt).toBe(NOW - 1_000 + 600_000);
  });

  it('holds the place of a non-disruptive update too: the next machine waits', () => {
    const result = plan([
      gated('worker-1', { startedAt: NOW - 1_000, needsDisruption: false }),
      machine('worker-2', { needsDisruption: false }),
    ]);
    expect(result.assign).toEqual([]);
    expect(result.message).toContain('1 machine waiting for room in maxUnavailable 1');
  });

  it('fails it past the progress deadline, naming the gate and the Node condition', () => {
    const result = plan([gated('worker-1'), machine('worker-2')]);
    expect(result.pause?.reason).toBe('FailureBudgetExceeded');
    expect(result.message).toContain(
      `worker-1 (ProgressDeadlineExceeded, not healthy at revision r2 600s after it was told: ${GATE_BLOCKER})`,
    );
  });

  it('rolls it back with autoRollback', () => {
    const result = plan([gated('worker-1'), machine('worker-2')], { autoRollback: true });
    expect(result.assign).toEqual([{ machine: 'worker-1', revision: 'r1' }]);
  });

  it('lets the rollout finish once the gate is met', () => {
    const result = plan([gated('worker-1', { unmetHealthGates: [] }), doneAtTarget('worker-2')]);
    expect(result.complete).toBe(true);
  });
});
