/**
 * Whether a Cluster's etcd is due a snapshot, and which member gives it.
 * A snapshot is due when spec.etcd.backup's interval has passed since the last
 * one the status records (so a restarted operator keeps the schedule), or when
 * the snapshot-request annotation carries a value the last snapshot did not
 * answer. A failed attempt is tried again after a pause, not every pass. A
 * healthy voting follower gives it (a snapshot streams the whole database, and
 * a leader that stalls costs an election); the leader only when no follower
 * answers. Which snapshot files a retention keeps is here too. Pure.
 */
import { Annotations } from '@kok/api';
import type { Cluster } from '@kok/api';

/** spec.etcd.backup, in the operator's units. */
export interface SnapshotPolicy {
  intervalMs: number;
  keep: number;
}

export const DEFAULT_SNAPSHOTS_KEPT = 7;
/** After a failed snapshot, the next attempt waits this long (or the interval, if shorter). */
export const SNAPSHOT_RETRY_MS = 5 * 60_000;

export function snapshotPolicyOf(spec: Pick<Cluster['spec'], 'etcd'>): SnapshotPolicy | undefined {
  const backup = spec.etcd?.backup;
  if (!backup || spec.etcd?.external) return undefined;
  return { intervalMs: backup.intervalMinutes * 60_000, keep: backup.keep ?? DEFAULT_SNAPSHOTS_KEPT };
}

/** Snapshots are scheduled (spec.etcd.backup) or asked for (the request annotation is set). */
export function snapshotsWanted(cluster: {
  spec: Pick<Cluster['spec'], 'etcd'>;
  metadata?: { annotations?: Record<string, string> };
}): boolean {
  return (
    snapshotPolicyOf(cluster.spec) !== undefined ||
    Boolean(cluster.metadata?.annotations?.[Annotations.etcdSnapshotRequest])
  );
}

export interface SnapshotMember {
  name: string;
  healthy: boolean;
  isLearner: boolean;
}

export interface SnapshotInputs {
  /** Undefined: no scheduled snapshots (a request is still answered). */
  policy: SnapshotPolicy | undefined;
  /** The value of the snapshot-request annotation, if set. */
  request?: string;
  /** The last snapshot taken, from the status. */
  last?: { time: number; request?: string };
  /** When the last attempt failed, if it failed after the last snapshot. */
  lastFailureAt?: number;
  members: readonly SnapshotMember[];
  leader?: string;
  now: number;
}

export type SnapshotStep =
  | { kind: 'snapshot'; member: string; requested: boolean }
  /** `retryAt`/`dueAt`: when to look again; absent when nothing is scheduled. */
  | { kind: 'wait'; reason: 'NoHealthyMember' | 'RetryPause'; message: string; retryAt?: number }
  | { kind: 'none'; dueAt?: number };

export function planSnapshot(inputs: SnapshotInputs): SnapshotStep {
  const { policy, request, last, lastFailureAt, now } = inputs;
  const requested = request !== undefined && request !== '' && request !== last?.request;
  const dueAt = policy ? (last ? last.time + policy.intervalMs : now) : undefined;
  if (!requested && (dueAt === undefined || dueAt > now))
    return { kind: 'none', ...(dueAt ? { dueAt } : {}) };
  if (lastFailureAt !== undefined) {
    const retryAt = retryAfterFailure(policy, lastFailureAt);
    if (retryAt > now)
      return {
        kind: 'wait',
        reason: 'RetryPause',
        message: `the last snapshot failed; the next attempt is at ${new Date(retryAt).toISOString()}`,
        retryAt,
      };
  }
  const voters = inputs.members.filter((m) => m.healthy && !m.isLearner);
  const member = voters.find((m) => m.name !== inputs.leader) ?? voters[0];
  if (!member) return { kind: 'wait', reason: 'NoHealthyMember', message: 'no voting etcd member answers' };
  return { kind: 'snapshot', member: member.name, requested };
}

/** When a snapshot that failed at `failedAt` is tried again. */
export function retryAfterFailure(policy: SnapshotPolicy | undefined, failedAt: number): number {
  return failedAt + Math.min(SNAPSHOT_RETRY_MS, policy?.intervalMs ?? SNAPSHOT_RETRY_MS);
}

/** Snapshot files are named <cluster>-<UTC time, sortable>.db: the name orders them by age. */
export function snapshotFileName(cluster: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d{3})Z$/, '$1Z');
  return `${cluster}-${stamp}.db`;
}

const STAMP = /^\d{8}T\d{9}Z\.db$/;

/** The snapshot files of `cluster` among `names` beyond the newest `keep`: the ones a retention deletes. */
export function snapshotsBeyondRetention(cluster: string, names: readonly string[], keep: number): string[] {
  const own = names
    .filter((n) => n.startsWith(`${cluster}-`) && STAMP.test(n.slice(cluster.length + 1)))
    .sort();
  return own.slice(0, Math.max(0, own.length - keep));
}
