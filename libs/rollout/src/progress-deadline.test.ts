import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MachineState } from './machine-state.ts';
import { planRollout } from './plan-rollout.ts';
import { applyProgressDeadline, isPastProgressDeadline, progressDeadlineAt } from './progress-deadline.ts';
import { doneAtTarget, machine, NOW } from './test-support/machines.ts';

const DEADLINE_S = 600;
const TOLD = NOW - 1_000_000;
/** Told r2 at TOLD, agent still running r1 (e.g. its download fails). */
const stuck = (name: string, overrides: Partial<MachineState> = {}): MachineState =>
  machine(name, {
    desiredRevision: 'r2',
    startedAt: TOLD,
    progressBlocker: 'AgentReady False ArtifactDownloadFailed: sha256 mismatch',
    ...overrides,
  });

describe('progress deadline of one machine', () => {
  const deadline = TOLD + DEADLINE_S * 1000;
  it.each<[string, MachineState, number, boolean]>([
    ['before the deadline', stuck('m'), deadline - 1, false],
    ['at the deadline', stuck('m'), deadline, true],
    ['after the deadline', stuck('m'), deadline + 60_000, true],
    ['healthy at the target, long after', doneAtTarget('m', { startedAt: TOLD }), deadline + 60_000, false],
    [
      'running the target but its Node NotReady',
      stuck('m', { currentRevision: 'r2', ready: false }),
      deadline,
      true,
    ],
    [
      'rolled back: told the old revision since',
      stuck('m', { desiredRevision: 'r1', startedAt: deadline }),
      deadline + 60_000,
      false,
    ],
    ['told when is unknown (no record)', stuck('m', { startedAt: undefined }), deadline + 60_000, false],
    [
      'the agent reports a failure already (counted on its own)',
      stuck('m', { failedRevision: 'r2' }),
      deadline,
      false,
    ],
    ['under remediation', stuck('m', { underRemediation: true }), deadline, false],
  ])('%s', (_case, state, now, past) => {
    expect(isPastProgressDeadline(state, 'r2', DEADLINE_S, now)).toBe(past);
  });

  it('counts from the recorded time, not from when it is looked at (an operator restart changes nothing)', () => {
    const state = stuck('m');
    // The same record read by a fresh process at any time gives the same deadline.
    expect(progressDeadlineAt(state, 'r2', DEADLINE_S)).toBe(deadline);
    expect(progressDeadlineAt({ ...state }, 'r2', DEADLINE_S)).toBe(deadline);
  });
});

describe('applyProgressDeadline', () => {
  it('fails a machine past its deadline at the target, saying why and what it was stuck on', () => {
    const healthy = doneAtTarget('a', { startedAt: TOLD });
    const { machines, nextDeadline } = applyProgressDeadline(
      [healthy, stuck('b'), stuck('c', { startedAt: NOW - 1_000 })],
      'r2',
      DEADLINE_S,
      NOW,
    );
    expect(machines[0]).toBe(healthy);
    expect(machines[1]).toMatchObject({
      failedRevision: 'r2',
      failureReason: 'ProgressDeadlineExceeded',
      failureMessage:
        'ProgressDeadlineExceeded, not healthy at revision r2 600s after it was told: AgentReady False ArtifactDownloadFailed: sha256 mismatch',
    });
    expect(machines[2]?.failedRevision).toBeUndefined();
    expect(nextDeadline).toBe(NOW - 1_000 + DEADLINE_S * 1000);
  });

  it('returns the same list when nothing is past its deadline, and does nothing without a deadline', () => {
    const list = [stuck('a', { startedAt: NOW })];
    expect(applyProgressDeadline(list, 'r2', DEADLINE_S, NOW).machines).toBe(list);
    expect(applyProgressDeadline([stuck('a')], 'r2', undefined, NOW)).toEqual({ machines: [stuck('a')] });
  });

  it('property: healthy machines are never failed, and a machine is failed exactly when now is at or past its deadline', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            healthy: fc.boolean(),
            toldTarget: fc.boolean(),
            startedAgo: fc.option(fc.integer({ min: -10_000, max: 2_000_000 }), { nil: undefined }),
          }),
          { maxLength: 20 },
        ),
        fc.integer({ min: 1, max: 1_800 }),
        (specs, deadlineSeconds) => {
          const input = specs.map((spec, index) =>
            machine(`m${index}`, {
              desiredRevision: spec.toldTarget ? 'r2' : 'r1',
              currentRevision: spec.healthy ? (spec.toldTarget ? 'r2' : 'r1') : 'r0',
              ...(spec.startedAgo === undefined ? {} : { startedAt: NOW - spec.startedAgo }),
            }),
          );
          const { machines, nextDeadline } = applyProgressDeadline(input, 'r2', deadlineSeconds, NOW);
          machines.forEach((state, index) => {
            const spec = specs[index] as (typeof specs)[number];
            const expectFailed =
              spec.toldTarget &&
              !spec.healthy &&
              spec.startedAgo !== undefined &&
              spec.startedAgo >= deadlineSeconds * 1000;
            expect(state.failedRevision === 'r2').toBe(expectFailed);
            if (spec.healthy) expect(state).toBe(input[index]);
          });
          if (nextDeadline !== undefined) expect(nextDeadline).toBeGreaterThan(NOW);
        },
      ),
    );
  });
});

describe('planRollout with a progress deadline', () => {
  const plan = (machines: MachineState[], spec: Parameters<typeof planRollout>[0]['spec']) =>
    planRollout({ pool: 'workers', spec, targetRevision: 'r2', lastGoodRevision: 'r1', machines, now: NOW });

  it('pauses (FailureBudgetExceeded) once a stuck machine is past the deadline, naming it and the cause', () => {
    const result = plan([stuck('worker-1'), machine('worker-2')], { progressDeadlineSeconds: DEADLINE_S });
    expect(result.pause?.reason).toBe('FailureBudgetExceeded');
    expect(result.message).toContain(
      'worker-1 (ProgressDeadlineExceeded, not healthy at revision r2 600s after it was told: AgentReady False ArtifactDownloadFailed: sha256 mismatch)',
    );
    expect(result.counts.failedMachines).toBe(1);
    expect(result.assign).toEqual([]);
  });

  it('lists the machine among the failed with the reason, so the caller can record it on the Machine', () => {
    const result = plan([stuck('worker-1'), machine('worker-2')], {
      progressDeadlineSeconds: DEADLINE_S,
      maxFailed: 1,
    });
    expect(result.failed).toEqual([
      {
        machine: 'worker-1',
        revision: 'r2',
        reason: 'ProgressDeadlineExceeded',
        message:
          'ProgressDeadlineExceeded, not healthy at revision r2 600s after it was told: AgentReady False ArtifactDownloadFailed: sha256 mismatch',
      },
    ]);
  });

  it('sends it back with autoRollback, the same way as a failing health check', () => {
    const result = plan([stuck('worker-1'), machine('worker-2')], {
      progressDeadlineSeconds: DEADLINE_S,
      autoRollback: true,
    });
    expect(result.pause?.reason).toBe('RolledBack');
    expect(result.assign).toEqual([{ machine: 'worker-1', revision: 'r1' }]);
    expect(result.rollback?.machines).toEqual(['worker-1']);
  });

  it('keeps going within maxFailed, and before the deadline wakes at it', () => {
    const within = plan([stuck('worker-1'), machine('worker-2')], {
      progressDeadlineSeconds: DEADLINE_S,
      maxFailed: 1,
      maxUnavailable: 2,
    });
    expect(within.pause).toBeUndefined();
    expect(within.cordon).toEqual(['worker-2']);

    const before = plan([stuck('worker-1', { startedAt: NOW - 1_000 }), machine('worker-2')], {
      progressDeadlineSeconds: DEADLINE_S,
    });
    expect(before.pause).toBeUndefined();
    expect(before.wakeAt).toBe(NOW - 1_000 + DEADLINE_S * 1000);
  });

  it('without a deadline a stuck machine only holds its place', () => {
    const result = plan([stuck('worker-1'), machine('worker-2')], {});
    expect(result.pause).toBeUndefined();
    expect(result.counts.failedMachines).toBe(0);
    expect(result.wakeAt).toBeUndefined();
  });

  it('reports a deadline that is not a positive number as an invalid spec', () => {
    expect(plan([machine('worker-1')], { progressDeadlineSeconds: 0 }).pause?.reason).toBe('InvalidSpec');
  });
});
