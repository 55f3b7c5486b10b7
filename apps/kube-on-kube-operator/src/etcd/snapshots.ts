/**
 * One pass of etcd snapshots for a Cluster: the planner (snapshot-plan.ts)
 * says whether one is due and which member gives it; the member's revision is
 * read, its snapshot saved (snapshot-file.ts) under the operator's snapshot
 * directory, the oldest files beyond the retention deleted, and an Event and
 * the metrics record it. When the last snapshot was taken lives in the status;
 * only when an attempt last failed is kept in memory (a restarted operator
 * tries once more at once).
 */
import { Annotations } from '@kok/api';
import type { EventRecorder } from '@kok/reconcile';
import type { Logger } from 'pino';
import { join } from 'node:path';
import type { ClusterMetrics } from '../metrics.ts';
import type { ClusterStatus } from '@kok/api';
import type { ClusterObject } from '../resource-types.ts';
import type { EtcdClientTls, EtcdTarget, MemberApi } from './member-api.ts';
import { memberApi } from './member-api.ts';
import type { EtcdObservation } from './member-observation.ts';
import type { SavedSnapshot } from './snapshot-file.ts';
import { pruneSnapshots, saveSnapshot } from './snapshot-file.ts';
import { planSnapshot, retryAfterFailure, snapshotFileName, snapshotPolicyOf } from './snapshot-plan.ts';

export type LastSnapshot = NonNullable<NonNullable<ClusterStatus['etcd']>['lastSnapshot']>;

/**
 * Per Cluster (by uid): the last snapshot this operator took, and when an attempt last failed (until one
 * succeeds). The status records the snapshot too, but a status write lost to a conflict must not make the
 * next pass take it again.
 */
export class EtcdSnapshotRecords {
  readonly #failedAt = new Map<string, number>();
  readonly #taken = new Map<string, LastSnapshot>();

  lastFailureAt(cluster: string): number | undefined {
    return this.#failedAt.get(cluster);
  }

  /** The newer of `recorded` (the status) and the last snapshot this operator took. */
  lastSnapshot(cluster: string, recorded: LastSnapshot | undefined): LastSnapshot | undefined {
    const taken = this.#taken.get(cluster);
    if (!taken || !recorded) return taken ?? recorded;
    return Date.parse(taken.time) > Date.parse(recorded.time) ? taken : recorded;
  }

  failed(cluster: string, at: number): void {
    this.#failedAt.set(cluster, at);
  }

  taken(cluster: string, snapshot: LastSnapshot): void {
    this.#failedAt.delete(cluster);
    this.#taken.set(cluster, snapshot);
  }

  forget(cluster: string): void {
    this.#failedAt.delete(cluster);
    this.#taken.delete(cluster);
  }
}

export interface SnapshotDeps {
  /** The operator's --etcd-snapshot-dir; undefined: no snapshots are taken. */
  directory: string | undefined;
  records: EtcdSnapshotRecords;
  events: EventRecorder | undefined;
  metrics: ClusterMetrics | undefined;
  log: Logger;
  /** Default: the member API over HTTPS. */
  api?: (target: EtcdTarget, tls: EtcdClientTls) => Pick<MemberApi, 'status'>;
  /** Default: saveSnapshot. */
  save?: (target: EtcdTarget, tls: EtcdClientTls, path: string) => Promise<SavedSnapshot>;
}

/** What this pass did about snapshots, and the last snapshot known (status.etcd.lastSnapshot). */
export interface SnapshotPass {
  outcome: SnapshotOutcome;
  lastSnapshot?: LastSnapshot;
}

/** What this pass did about snapshots; `at` values are ms since the epoch. */
export type SnapshotOutcome =
  | { kind: 'none'; dueAt?: number }
  | {
      kind: 'wait';
      reason: 'NoHealthyMember' | 'RetryPause' | 'NoSnapshotDirectory';
      message: string;
      retryAt?: number;
    }
  | { kind: 'taken'; snapshot: LastSnapshot; deleted: string[]; dueAt?: number }
  | { kind: 'failed'; message: string; retryAt: number };

const MiB = 1024 * 1024;

export async function snapshotEtcd(
  deps: SnapshotDeps,
  cluster: ClusterObject,
  observation: EtcdObservation,
  tls: EtcdClientTls,
  at: Date,
): Promise<SnapshotPass> {
  const key = cluster.metadata.uid ?? '';
  const last = deps.records.lastSnapshot(key, cluster.status?.etcd?.lastSnapshot);
  const outcome = await takeDueSnapshot(deps, cluster, observation, tls, at, last);
  return {
    outcome,
    ...(outcome.kind === 'taken' ? { lastSnapshot: outcome.snapshot } : last ? { lastSnapshot: last } : {}),
  };
}

async function takeDueSnapshot(
  deps: SnapshotDeps,
  cluster: ClusterObject,
  observation: EtcdObservation,
  tls: EtcdClientTls,
  at: Date,
  last: LastSnapshot | undefined,
): Promise<SnapshotOutcome> {
  const key = cluster.metadata.uid ?? '';
  const policy = snapshotPolicyOf(cluster.spec);
  const request = cluster.metadata.annotations?.[Annotations.etcdSnapshotRequest];
  const failedAt = deps.records.lastFailureAt(key);
  const step = planSnapshot({
    policy,
    ...(request !== undefined ? { request } : {}),
    ...(last
      ? { last: { time: Date.parse(last.time), ...(last.request ? { request: last.request } : {}) } }
      : {}),
    ...(failedAt !== undefined ? { lastFailureAt: failedAt } : {}),
    members: observation.members,
    ...(observation.leader ? { leader: observation.leader } : {}),
    now: at.getTime(),
  });
  if (step.kind !== 'snapshot') return step;
  if (!deps.directory)
    return {
      kind: 'wait',
      reason: 'NoSnapshotDirectory',
      message: 'the operator runs without --etcd-snapshot-dir, so it has nowhere to write snapshots',
    };
  const target = observation.pods.find((pod) => pod.name === step.member)?.target;
  if (!target)
    return { kind: 'wait', reason: 'NoHealthyMember', message: `member ${step.member} has no pod address` };

  const namespace = cluster.metadata.namespace ?? '';
  const name = cluster.metadata.name ?? '';
  const labels = { namespace, cluster: name };
  const file = join(namespace, name, snapshotFileName(name, at));
  let snapshot: LastSnapshot;
  try {
    const revision = Number((await (deps.api ?? memberApi)(target, tls).status()).header?.revision ?? 0);
    const saved = await (deps.save ?? saveSnapshot)(target, tls, join(deps.directory, file));
    snapshot = {
      file,
      time: at.toISOString(),
      member: step.member,
      revision,
      ...saved,
      ...(step.requested && request ? { request } : {}),
    };
  } catch (error) {
    deps.records.failed(key, at.getTime());
    deps.metrics?.etcdSnapshots.inc({ ...labels, result: 'failed' });
    const retryAt = retryAfterFailure(policy, at.getTime());
    const message = `etcd snapshot from ${step.member} failed: ${(error as Error).message}; tried again at ${new Date(retryAt).toISOString()}`;
    deps.log.warn({ member: step.member }, message);
    await deps.events?.record(cluster, 'Warning', 'EtcdSnapshotFailed', 'EtcdSnapshot', message);
    return { kind: 'failed', message, retryAt };
  }
  deps.records.taken(key, snapshot);
  deps.metrics?.etcdSnapshots.inc({ ...labels, result: 'succeeded' });
  // The snapshot is whole and in place whatever the retention does next.
  let deleted: string[] = [];
  let pruneError = '';
  if (policy)
    try {
      deleted = await pruneSnapshots(join(deps.directory, namespace, name), name, policy.keep);
    } catch (error) {
      pruneError = `; deleting snapshots beyond keep ${policy.keep} failed: ${(error as Error).message}`;
    }
  const message =
    `etcd snapshot ${file} taken from ${step.member}: ${(snapshot.sizeBytes / MiB).toFixed(1)} MiB at revision ${snapshot.revision}` +
    (step.requested ? `, as requested (${request})` : '') +
    (deleted.length > 0 ? `; deleted ${deleted.join(', ')} (keep ${policy?.keep})` : '') +
    pruneError;
  deps.log.info(
    { file, member: step.member, sizeBytes: snapshot.sizeBytes, revision: snapshot.revision, deleted },
    message,
  );
  await deps.events?.record(cluster, 'Normal', 'EtcdSnapshotTaken', 'EtcdSnapshot', message);
  return { kind: 'taken', snapshot, deleted, ...(policy ? { dueAt: at.getTime() + policy.intervalMs } : {}) };
}
