import { describe, expect, it } from 'vitest';
import { applyDrainTimeout, isPastDrainTimeout } from './drain-timeout.ts';
import type { MachineState } from './machine-state.ts';
import { planRollout } from './plan-rollout.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import { machine, NOW } from './test-support/machines.ts';

const TIMEOUT_S = 600;
const CORDONED = NOW - 1_000_000;
const BLOCKER =
  "waiting for shop/db-0 (eviction refused: Cannot evict pod as it would violate the pod's disruption budget.)";
/** Cordoned by the rollout for r2 at CORDONED, still at r1, a PDB keeping a pod on it. */
const draining = (name: string, overrides: Partial<MachineState> = {}): MachineState =>
  machine(name, {
    cordoned: true,
    cordonedByRollout: true,
    drainStartedAt: CORDONED,
    drainBlocker: BLOCKER,
    ...overrides,
  });
const MESSAGE = `DrainTimeout, drain for revision r2 not done 600s after it began: ${BLOCKER}`;

describe('drain timeout of one machine', () => {
  const deadline = CORDONED + TIMEOUT_S * 1000;
  it.each<[string, MachineState, number, boolean]>([
    ['before the timeout', draining('m'), deadline - 1, false],
    ['at the timeout', draining('m'), deadline, true],
    ['after the timeout', draining('m'), deadline + 60_000, true],
    ['drained in time, not told yet', draining('m', { drained: true }), deadline + 60_000, false],
    [
      'already told the target (the drain is over)',
      draining('m', { desiredRevision: 'r2' }),
      deadline,
      false,
    ],
    ['the change needs no drain', draining('m', { needsDisruption: false }), deadline, false],
    ['cordoned by someone else', draining('m', { cordonedByRollout: false }), deadline, false],
    ['when the drain began is unknown', draining('m', { drainStartedAt: undefined }), deadline, false],
    ['the agent reports a failure already', draining('m', { failedRevision: 'r1' }), deadline, false],
    ['under remediation', draining('m', { underRemediation: true }), deadline, false],
  ])('%s', (_case, state, now, past) => {
    expect(isPastDrainTimeout(state, 'r2', TIMEOUT_S, now)).toBe(past);
  });
});

describe('applyDrainTimeout', () => {
  it('fails a machine whose drain outlasted the timeout at the target, saying what the drain waits for', () => {
    const idle = machine('a');
    const late = draining('b');
    const { machines, timedOut, nextDeadline } = applyDrainTimeout(
      [idle, late, draining('c', { drainStartedAt: NOW - 1_000 })],
      'r2',
      TIMEOUT_S,
      NOW,
    );
    expect(machines[0]).toBe(idle);
    expect(machines[1]).toMatchObject({
      failedRevision: 'r2',
      failureReason: 'DrainTimeout',
      failureMessage: MESSAGE,
    });
    expect(machines[2]?.failedRevision).toBeUndefined();
    expect([...timedOut]).toEqual([['b', late]]);
    expect(nextDeadline).toBe(NOW - 1_000 + TIMEOUT_S * 1000);
  });

  it('returns the same list when no drain timed out, and does nothing without a timeout', () => {
    const list = [draining('a', { drainStartedAt: NOW })];
    expect(applyDrainTimeout(list, 'r2', TIMEOUT_S, NOW).machines).toBe(list);
    const without = applyDrainTimeout([draining('a')], 'r2', undefined, NOW);
    expect(without.machines[0]?.failedRevision).toBeUndefined();
    expect(without.timedOut.size).toBe(0);
  });
});

describe('planRollout with a drain timeout', () => {
  const plan = (machines: MachineState[], spec: RolloutSpec, rolledBack = false) =>
    planRollout({
      pool: 'workers',
      spec: { drainTimeoutSeconds: TIMEOUT_S, ...spec },
      targetRevision: 'r2',
      lastGoodRevision: 'r1',
      machines,
      now: NOW,
      rolledBack,
    });

  it.each<[string, RolloutSpec, { pause?: string; drain: string[]; uncordon: string[]; assign: unknown[] }]>([
    [
      'maxFailed 0: the pool pauses; the machine stays cordoned and its drain goes on',
      {},
      { pause: 'FailureBudgetExceeded', drain: ['worker-1'], uncordon: [], assign: [] },
    ],
    [
      'within maxFailed: the rollout goes on and so does the drain',
      { maxFailed: 1, maxUnavailable: 2 },
      { drain: ['worker-1', 'worker-2'], uncordon: [], assign: [] },
    ],
    [
      'autoRollback: the machine was never changed, so its cordon is given back and nothing is sent back',
      { autoRollback: true },
      { pause: 'RolledBack', drain: [], uncordon: ['worker-1'], assign: [] },
    ],
    [
      'spec.paused: the cordon for a start that will not come is given back',
      { paused: true },
      { pause: 'Paused', drain: [], uncordon: ['worker-1'], assign: [] },
    ],
  ])('%s', (_case, spec, expected) => {
    const result = plan([draining('worker-1'), machine('worker-2')], spec);
    expect(result.pause?.reason).toBe(expected.pause);
    expect(result.drain).toEqual(expected.drain);
    expect(result.uncordon).toEqual(expected.uncordon);
    expect(result.assign).toEqual(expected.assign);
    expect(result.counts.failedMachines).toBe(1);
  });

  it('names the machine, the timeout and what blocks the drain, and lists it among the failed', () => {
    const result = plan([draining('worker-1'), machine('worker-2')], {});
    expect(result.message).toContain(`1 machine failed at revision r2 (maxFailed 0): worker-1 (${MESSAGE})`);
    expect(result.failed).toEqual([
      { machine: 'worker-1', revision: 'r2', reason: 'DrainTimeout', message: MESSAGE },
    ]);
  });

  it('once the drain finishes the machine is no longer failed and gets the revision', () => {
    const result = plan([draining('worker-1', { drained: true }), machine('worker-2')], {});
    expect(result.pause).toBeUndefined();
    expect(result.counts.failedMachines).toBe(0);
    expect(result.assign).toEqual([{ machine: 'worker-1', revision: 'r2' }]);
  });

  it('after a rollback, the released machine is left alone', () => {
    const released = machine('worker-1');
    const result = plan([released, machine('worker-2')], { autoRollback: true }, true);
    expect(result.pause?.reason).toBe('RolledBack');
    expect(result.cordon).toEqual([]);
    expect(result.assign).toEqual([]);
  });

  it('before the timeout it drains and wakes at the timeout', () => {
    const result = plan([draining('worker-1', { drainStartedAt: NOW - 1_000 })], {});
    expect(result.pause).toBeUndefined();
    expect(result.drain).toEqual(['worker-1']);
    expect(result.wakeAt).toBe(NOW - 1_000 + TIMEOUT_S * 1000);
  });

  it('rejects a timeout that is not more than 0', () => {
    expect(plan([machine('worker-1')], { drainTimeoutSeconds: 0 }).pause?.reason).toBe('InvalidSpec');
  });
});
