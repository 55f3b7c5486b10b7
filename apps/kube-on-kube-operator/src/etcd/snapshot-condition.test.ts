import type { Condition } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { withSnapshotCondition } from './snapshot-condition.ts';
import type { SnapshotOutcome } from './snapshots.ts';

const at = new Date('2026-12-03T12:00:00Z');
const taken: SnapshotOutcome = {
  kind: 'taken',
  snapshot: {
    file: 'fleet/a/a-20261203T120000000Z.db',
    time: at.toISOString(),
    member: 'a-etcd-1',
    revision: 42,
    sizeBytes: 3 * 1024 * 1024,
    sha256: 'a'.repeat(64),
  },
  deleted: [],
  dueAt: at.getTime() + 3_600_000,
};
const failed: SnapshotOutcome = {
  kind: 'failed',
  message: 'etcd snapshot from a-etcd-1 failed: boom',
  retryAt: 0,
};

const backup = (conditions: Condition[] | undefined) => conditions?.find((c) => c.type === 'EtcdBackup');

describe('EtcdBackup', () => {
  it.each<[string, SnapshotOutcome, Partial<Condition>]>([
    [
      'a snapshot taken',
      taken,
      {
        status: 'True',
        reason: 'SnapshotTaken',
        message:
          'last snapshot fleet/a/a-20261203T120000000Z.db from a-etcd-1: 3.0 MiB at revision 42; the next is due at 2026-12-03T13:00:00.000Z',
      },
    ],
    [
      'a snapshot failed',
      failed,
      { status: 'False', reason: 'SnapshotFailed', message: 'etcd snapshot from a-etcd-1 failed: boom' },
    ],
    [
      'due with nowhere to write it',
      { kind: 'wait', reason: 'NoSnapshotDirectory', message: 'no directory' },
      {
        status: 'False',
        reason: 'NoSnapshotDirectory',
        message: 'a snapshot is due and not taken: no directory',
      },
    ],
    [
      'due with no member answering',
      { kind: 'wait', reason: 'NoHealthyMember', message: 'no voting etcd member answers' },
      { status: 'False', reason: 'NoHealthyMember' },
    ],
  ])('%s', (_name, outcome, expected) => {
    expect(backup(withSnapshotCondition(undefined, outcome, true, 3, at))).toMatchObject({
      type: 'EtcdBackup',
      observedGeneration: 3,
      ...expected,
    });
  });

  it('stays as it was between attempts, and through the pause after a failure', () => {
    const afterFailure = withSnapshotCondition(undefined, failed, true, 3, at);
    expect(withSnapshotCondition(afterFailure, { kind: 'none', dueAt: 0 }, true, 3, at)).toEqual(
      afterFailure,
    );
    const paused: SnapshotOutcome = { kind: 'wait', reason: 'RetryPause', message: 'later', retryAt: 0 };
    expect(withSnapshotCondition(afterFailure, paused, true, 3, at)).toEqual(afterFailure);
    expect(withSnapshotCondition(undefined, undefined, true, 3, at)).toBeUndefined();
  });

  it('goes once snapshots are neither scheduled nor asked for', () => {
    const other: Condition = {
      type: 'Available',
      status: 'True',
      reason: 'R',
      message: '',
      lastTransitionTime: at.toISOString(),
    };
    const afterFailure = withSnapshotCondition([other], failed, true, 3, at);
    expect(withSnapshotCondition(afterFailure, { kind: 'none' }, false, 3, at)).toEqual([other]);
    expect(withSnapshotCondition([other], undefined, false, 3, at)).toEqual([other]);
  });
});
