/**
 * EtcdBackup, from what this pass did about snapshots: True once a snapshot
 * was taken, False with why the one due was not; between attempts it stays
 * as it was; gone once snapshots are neither scheduled nor asked for. Pure.
 */
import { ClusterConditions, findCondition, removeCondition, setCondition } from '@kok/api';
import type { Condition } from '@kok/api';
import type { SnapshotOutcome } from './snapshots.ts';

const MiB = 1024 * 1024;

export function withSnapshotCondition(
  conditions: Condition[] | undefined,
  outcome: SnapshotOutcome | undefined,
  wanted: boolean,
  generation: number,
  at: Date,
): Condition[] | undefined {
  // Neither scheduled nor asked for any more: nothing to say about snapshots.
  if (!wanted)
    return findCondition(conditions, ClusterConditions.EtcdBackup)
      ? removeCondition(conditions, ClusterConditions.EtcdBackup)
      : conditions;
  if (!outcome || outcome.kind === 'none') return conditions;
  // A pause after a failure keeps the failure's own message.
  if (outcome.kind === 'wait' && outcome.reason === 'RetryPause') return conditions;
  const type = ClusterConditions.EtcdBackup;
  const observedGeneration = generation;
  if (outcome.kind === 'taken') {
    const { file, member, sizeBytes, revision } = outcome.snapshot;
    const next = outcome.dueAt ? `; the next is due at ${new Date(outcome.dueAt).toISOString()}` : '';
    return setCondition(
      conditions,
      {
        type,
        status: 'True',
        reason: 'SnapshotTaken',
        message: `last snapshot ${file} from ${member}: ${(sizeBytes / MiB).toFixed(1)} MiB at revision ${revision}${next}`,
        observedGeneration,
      },
      at,
    );
  }
  if (outcome.kind === 'failed')
    return setCondition(
      conditions,
      { type, status: 'False', reason: 'SnapshotFailed', message: outcome.message, observedGeneration },
      at,
    );
  return setCondition(
    conditions,
    {
      type,
      status: 'False',
      reason: outcome.reason,
      message: `a snapshot is due and not taken: ${outcome.message}`,
      observedGeneration,
    },
    at,
  );
}
