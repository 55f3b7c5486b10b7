import { templateRevision } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { nodePoolStatusView } from './nodepool-status.ts';
import { poolState, renderNodePoolStatus } from './render/nodepool-status.ts';
import { condition, machine, pool } from './test-support/objects.ts';

const now = new Date('2026-01-01T00:10:00Z');
const T = 'aaaaaaaaaa';
const GOOD = 'bbbbbbbbbb';

function reportedPool(conditions: ReturnType<typeof condition>[], paused = false) {
  const spec = {
    paused,
    rollout: {
      waves: [
        { name: 'canary', count: 1, bakeSeconds: 600 },
        { name: 'half', percent: 50, pauseAfter: true },
      ],
    },
  };
  const template = pool('workers', spec).spec.template;
  return pool('workers', spec, {
    observedGeneration: 1,
    updateRevision: templateRevision(template),
    currentRevision: GOOD,
    machines: 4,
    updatedMachines: 2,
    readyMachines: 4,
    unavailableMachines: 0,
    failedMachines: 0,
    currentWave: 1,
    conditions,
  });
}

describe('pool state line', () => {
  it.each([
    [
      'paused after a wave',
      reportedPool([condition('Paused', 'True', 'AwaitingResume', 'workers paused after "half"')], true),
      'Paused (AwaitingResume): workers paused after "half"',
      'resume with: kubectl kok nodepool resume workers',
    ],
    [
      'stopped for failures',
      reportedPool([condition('Paused', 'True', 'TooManyFailures', '2 machines failed (maxFailed 1)')]),
      'Paused (TooManyFailures): 2 machines failed (maxFailed 1)',
      'roll back with: kubectl kok nodepool rollback workers; or repair the failed machines',
    ],
    [
      'paused by a person, operator not there yet',
      pool('workers', { paused: true }),
      'Paused (spec.paused is true)',
      'resume with: kubectl kok nodepool resume workers',
    ],
    [
      'baking',
      reportedPool([
        condition('RollingOut', 'True', 'Baking', 'workers baking "canary"'),
        condition('Paused', 'False', 'NotPaused'),
      ]),
      'Rolling out (Baking): workers baking "canary"',
      undefined,
    ],
    [
      'complete',
      reportedPool([condition('RollingOut', 'False', 'Complete', 'done')]),
      'Complete: every machine runs the revision',
      undefined,
    ],
    [
      'never reported',
      pool('workers'),
      'Unknown: the node-operator has not reported on this pool yet',
      undefined,
    ],
  ])('%s', (_, subject, state, hint) => {
    expect(poolState(nodePoolStatusView(subject, []))).toEqual(
      hint === undefined ? { state } : { state, hint },
    );
  });
});

describe('nodepool status view', () => {
  it('rolls out the template’s own revision until the operator reports, and says the operator is behind', () => {
    const subject = pool('workers');
    const view = nodePoolStatusView(subject, [machine('w-1', { pool: 'workers' })]);
    expect(view.targetRevision).toBe(templateRevision(subject.spec.template));
    expect(view.operatorBehind).toBe(true);
    expect(view.counts.machines).toBe(1);
    expect(renderNodePoolStatus(view, now)).toContain(
      'Note:      the node-operator has not acted on the latest spec yet',
    );
  });

  it('prints revisions, counts, a bar per wave with the current one marked, failures and conditions', () => {
    const subject = reportedPool([condition('Paused', 'True', 'AwaitingResume', 'held')], true);
    const target = subject.status?.updateRevision ?? '';
    const machines = [
      machine('w-1', { pool: 'workers', desired: target, current: target }),
      machine('w-2', { pool: 'workers', desired: target, current: target }),
      machine('w-3', { pool: 'workers', desired: target, current: T, failed: true }),
      machine('w-4', { pool: 'workers', desired: GOOD, current: GOOD }),
    ];
    const text = renderNodePoolStatus(nodePoolStatusView(subject, machines), now);
    expect(text).toBe(
      [
        'NodePool:  workers',
        `Revision:  ${target}, last good ${GOOD}`,
        'Machines:  4 total, 2 updated, 4 ready, 0 unavailable (maxUnavailable 1), 0 failed (maxFailed 0)',
        'State:     Paused (AwaitingResume): held',
        '           resume with: kubectl kok nodepool resume workers',
        '',
        'WAVE            MACHINES   PROGRESS                      UPDATED   UPDATING   FAILED   PENDING   NOTES',
        '  canary        1          [####################] 100%   1         0          0        0         bake 600s',
        '> half          1          [####################] 100%   1         0          0        0         pause after',
        '  (remaining)   2          [--------------------]   0%   0         0          1        1',
        '',
        'Failed machines (1):',
        '  w-3: kubelet: exec check exited 1',
        '',
        'Conditions:',
        '  TYPE     STATUS   REASON           AGE   MESSAGE',
        '  Paused   True     AwaitingResume   10m   held',
        '',
      ].join('\n'),
    );
  });

  it('lists a machine failed by its progress deadline with the rollout’s reason, next to the agent’s failures', () => {
    const subject = reportedPool([condition('Paused', 'True', 'TooManyFailures', '2 machines failed')]);
    const target = subject.status?.updateRevision ?? '';
    const stuck = machine('w-2', { pool: 'workers', desired: target, current: GOOD });
    const why = `ProgressDeadlineExceeded, not healthy at revision ${target} 600s after it was told: Node NotReady`;
    stuck.status = {
      ...stuck.status,
      conditions: [condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded', why)],
    };
    const machines = [
      machine('w-1', { pool: 'workers', desired: target, current: GOOD, failed: true }),
      stuck,
    ];
    const text = renderNodePoolStatus(nodePoolStatusView(subject, machines), now);
    expect(text).toContain(
      ['Failed machines (2):', '  w-1: kubelet: exec check exited 1', `  w-2: ${why}`].join('\n'),
    );
  });

  it('lists at most ten failed machines and says how many more', () => {
    const subject = reportedPool([]);
    const target = subject.status?.updateRevision ?? '';
    const machines = Array.from({ length: 13 }, (_, i) =>
      machine(`w-${i}`, { pool: 'workers', desired: target, current: GOOD, failed: true }),
    );
    const text = renderNodePoolStatus(nodePoolStatusView(subject, machines), now);
    expect(text).toContain('Failed machines (13):');
    expect(text).toContain('  … and 3 more: kubectl get machines');
    expect(text.match(/: kubelet: exec check exited 1/g)).toHaveLength(10);
  });
});
