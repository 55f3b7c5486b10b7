import type { Condition, Machine, NodePool } from '@kok/api';
import type { FailedMachine } from '@kok/rollout';
import { describe, expect, it } from 'vitest';
import {
  atResourceVersion,
  drainedPatch,
  leftPoolRolloutStatus,
  rolloutFailedStatus,
  rolloutStatusFor,
  waitingForOf,
} from './machine-patches.ts';
import type { WaitingFor } from './machine-patches.ts';

const NOW = new Date('2026-12-01T10:00:00Z');
const EARLIER = '2026-12-01T09:00:00Z';
const MESSAGE = 'ProgressDeadlineExceeded, not healthy at revision r2 600s after it was told: Node NotReady';

const rolloutFailed = (message = MESSAGE, reason = 'ProgressDeadlineExceeded'): Condition => ({
  type: 'RolloutFailed',
  status: 'True',
  reason,
  message,
  lastTransitionTime: EARLIER,
});
const agentReady: Condition = {
  type: 'AgentReady',
  status: 'True',
  reason: 'Ready',
  message: '',
  lastTransitionTime: EARLIER,
};

function machine(...conditions: Condition[]): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'w1' },
    spec: { revision: 'r2' },
    status: { conditions: [agentReady, ...conditions] },
  } as Machine;
}

const pastDeadline: FailedMachine = {
  machine: 'w1',
  revision: 'r2',
  reason: 'ProgressDeadlineExceeded',
  message: MESSAGE,
};
const reportedByAgent: FailedMachine = {
  machine: 'w1',
  revision: 'r2',
  message: 'kubelet: exec check exited 1',
};

describe('rolloutFailedStatus', () => {
  it.each<[string, Machine, FailedMachine | undefined, { conditions: Condition[] } | undefined]>([
    [
      'a new verdict: the condition, True since now',
      machine(),
      pastDeadline,
      { conditions: [{ ...rolloutFailed(), lastTransitionTime: '2026-12-01T10:00:00Z' }] },
    ],
    ['the same verdict already shown: no write', machine(rolloutFailed()), pastDeadline, undefined],
    [
      'another message: rewritten, keeping when it turned True',
      machine(rolloutFailed('ProgressDeadlineExceeded, earlier words')),
      pastDeadline,
      { conditions: [rolloutFailed()] },
    ],
    [
      'failed no more (healthy again, or sent back): removed',
      machine(rolloutFailed()),
      undefined,
      { conditions: [] },
    ],
    ['never failed: nothing to write', machine(), undefined, undefined],
    ['a failure the agent reports: not repeated', machine(), reportedByAgent, undefined],
    [
      'the agent now reports the failure itself: the rollout’s verdict goes',
      machine(rolloutFailed()),
      reportedByAgent,
      { conditions: [] },
    ],
  ])('%s', (_, given, failure, expected) => {
    expect(rolloutFailedStatus(given, failure, NOW)).toEqual(expected);
  });

  it('says at which revision when the planner gave no message', () => {
    const status = rolloutFailedStatus(
      machine(),
      { machine: 'w1', revision: 'r2', reason: 'DrainTimeout' },
      NOW,
    );
    expect(status?.conditions[0]).toMatchObject({ reason: 'DrainTimeout', message: 'failed at revision r2' });
  });
});

describe('waitingForOf', () => {
  const budgetFull = {
    kind: 'BudgetFull',
    maxUnavailable: 2,
    holders: ['w2', 'w3'],
    holderCount: 2,
  } as const;

  it('stores a full budget without its holders, so a new holder costs no write on every waiting machine', () => {
    const first = waitingForOf(undefined, budgetFull, 'workers', NOW);
    const later = waitingForOf(
      first,
      { ...budgetFull, holders: ['w4', 'w5'] },
      'workers',
      new Date(NOW.getTime() + 60_000),
    );
    expect(first).toEqual({
      reason: 'BudgetFull',
      message: expect.stringContaining('maxUnavailable 2 is taken by machines being updated or unavailable'),
      since: '2026-12-01T10:00:00Z',
    });
    expect(later).toEqual(first);
  });

  it('keeps since while the reason stays, starts it again when the reason changes, and is absent when nothing holds', () => {
    const previous: WaitingFor = { reason: 'WaitingForWave', message: 'old words', since: EARLIER };
    const wave = { kind: 'WaitingForWave', wave: 'waves[1]', currentWave: 'waves[0]' } as const;
    expect(waitingForOf(previous, wave, 'workers', NOW)?.since).toBe(EARLIER);
    expect(waitingForOf(previous, { kind: 'Paused' }, 'workers', NOW)).toEqual({
      reason: 'Paused',
      message:
        'NodePool "workers" is paused (spec.paused), so no machine starts its update. Resume it with: kubectl kok nodepool resume workers.',
      since: '2026-12-01T10:00:00Z',
    });
    expect(waitingForOf(previous, undefined, 'workers', NOW)).toBeUndefined();
  });
});

describe('rolloutStatusFor', () => {
  const waiting: WaitingFor = { reason: 'Paused', message: 'paused', since: EARLIER };
  const withWaiting = (given: Machine, waitingFor?: WaitingFor): Machine =>
    ({ ...given, status: { ...given.status, ...(waitingFor ? { waitingFor } : {}) } }) as Machine;

  it('writes nothing when the Machine shows the verdict and the reason already', () => {
    expect(
      rolloutStatusFor(withWaiting(machine(rolloutFailed()), waiting), pastDeadline, waiting, NOW),
    ).toBeUndefined();
  });

  it('sends the RolloutFailed condition it keeps along with a new reason, since apply would drop what it leaves out', () => {
    expect(rolloutStatusFor(machine(rolloutFailed()), pastDeadline, waiting, NOW)).toEqual({
      conditions: [rolloutFailed()],
      waitingFor: waiting,
    });
    expect(rolloutStatusFor(machine(), undefined, waiting, NOW)).toEqual({
      conditions: [],
      waitingFor: waiting,
    });
  });

  it('removes the reason once nothing holds the machine', () => {
    expect(rolloutStatusFor(withWaiting(machine(), waiting), undefined, undefined, NOW)).toEqual({
      conditions: [],
    });
  });
});

describe('leftPoolRolloutStatus', () => {
  const waitingFor: WaitingFor = { reason: 'BudgetFull', message: 'waiting for room', since: EARLIER };
  const inPool = (given: Machine, pool: string | undefined): Machine =>
    ({ ...given, spec: { ...given.spec, ...(pool ? { pool } : {}) } }) as Machine;
  const waiting = (given: Machine): Machine =>
    ({ ...given, status: { ...given.status, waitingFor } }) as Machine;
  const pool = (name: string, deleting = false): NodePool =>
    ({
      metadata: { name, ...(deleting ? { deletionTimestamp: EARLIER } : {}) },
      spec: { template: {} },
    }) as NodePool;
  const cleared = { conditions: [] };

  it.each([
    ['waits, left for no pool', waiting(inPool(machine(), undefined)), [pool('workers')], cleared],
    ['waits, names a pool that is gone', waiting(inPool(machine(), 'workers')), [], cleared],
    [
      'waits, its pool is being deleted',
      waiting(inPool(machine(), 'workers')),
      [pool('workers', true)],
      cleared,
    ],
    ['failed by a rollout, in no pool', inPool(machine(rolloutFailed()), undefined), [], cleared],
    ['waits, a pool drives it', waiting(inPool(machine(), 'workers')), [pool('workers')], undefined],
    ['failed, a pool drives it', inPool(machine(rolloutFailed()), 'workers'), [pool('workers')], undefined],
    ['shows nothing of a rollout, in no pool', inPool(machine(), undefined), [], undefined],
  ])('%s', (_, given, pools, expected) => {
    expect(leftPoolRolloutStatus(given, pools, NOW)).toEqual(expected);
  });
});

describe('atResourceVersion', () => {
  const machine: Machine = {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'm1', resourceVersion: '41', annotations: { a: 'b' } },
    spec: { pool: 'p' },
  };
  it.each([
    { written: undefined, guardedBy: '41', why: 'nothing written since the observation' },
    { written: '42', guardedBy: '42', why: 'a condition written since, guarded by the observed 41' },
  ])('guards the patch that follows by $guardedBy: $why', ({ written, guardedBy }) => {
    expect(drainedPatch(atResourceVersion(machine, written), 'r2')).toEqual({
      metadata: { resourceVersion: guardedBy, annotations: { 'nodes.kok.dev/drained': 'r2' } },
    });
    expect(machine.metadata?.resourceVersion).toBe('41');
  });
});
