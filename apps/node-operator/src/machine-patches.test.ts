import type { Condition, Machine } from '@kok/api';
import type { FailedMachine } from '@kok/rollout';
import { describe, expect, it } from 'vitest';
import { rolloutFailedStatus } from './machine-patches.ts';

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
