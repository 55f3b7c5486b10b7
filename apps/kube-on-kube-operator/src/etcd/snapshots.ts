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

/** Per Cluster (by uid): when its last snapshot attempt failed, until one succeeds. */
export class EtcdSnapshotFailures {
  readonly #at = new Map<string, number>();

  lastFailureAt(cluster: string): number | undefined {
    return this.#at.get(cluster);
  }

  failed(cluster: string, at: number): void {
    this.#at.set(cluster, at);
  }

  forget(cluster: string): void {
    this.#at.delete(cluster);
  }
}

export interface SnapshotDeps {
  /** The operator's --etcd-snapshot-dir; undefined: no snapshots are taken. */
  directory: string | undefined;
  failures: EtcdSnapshotFailures;
  events: EventRecorder | undefined;
  metrics: ClusterMetrics | undefined;
  log: Logger;
  /** Default: the member API over HTTPS. */
  api?: (target: EtcdTarget, tls: EtcdClientTls) => Pick<MemberApi, 'status'>;
  /** Default: saveSnapshot. */
  save?: (target: EtcdTarget, tls: EtcdClientTls, path: string) => Promise<SavedSnapshot>;
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
): Promise<SnapshotOutcome> {
  const key = cluster.metadata.uid ?? '';
  const policy = snapshotPolicyOf(cluster.spec);
  const last = cluster.status?.etcd?.lastSnapshot;
  const request = cluster.metadata.annotations?.[Annotations.etcdSnapshotRequest];
  const failedAt = deps.failures.lastFailureAt(key);
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
  try {
    const revision = Number((await (deps.api ?? memberApi)(target, tls).status()).header?.revision ?? 0);
    const saved = await (deps.save ?? saveSnapshot)(target, tls, join(deps.directory, file));
    const snapshot: LastSnapshot = {
      file,
      time: at.toISOString(),
      member: step.member,
      revision,
      ...saved,
      ...(step.requested && request ? { request } : {}),
    };
    deps.failures.forget(key);
    const deleted = policy
      ? await pruneSnapshots(join(deps.directory, namespace, name), name, policy.keep)
      : [];
    deps.metrics?.etcdSnapshots.inc({ ...labels, result: 'succeeded' });
    const message =
      `etcd snapshot ${file} taken from ${step.member}: ${(saved.sizeBytes / MiB).toFixed(1)} MiB at revision ${revision}` +
      (step.requested ? `, as requested (${request})` : '') +
      (deleted.length > 0 ? `; deleted ${deleted.join(', ')} (keep ${policy?.keep})` : '');
    deps.log.info({ file, member: step.member, sizeBytes: saved.sizeBytes, revision, deleted }, message);
    await deps.events?.record(cluster, 'Normal', 'EtcdSnapshotTaken', 'EtcdSnapshot', message);
    return {
      kind: 'taken',
      snapshot,
      deleted,
      ...(policy ? { dueAt: at.getTime() + policy.intervalMs } : {}),
    };
  } catch (error) {
    deps.failures.failed(key, at.getTime());
    deps.metrics?.etcdSnapshots.inc({ ...labels, result: 'failed' });
    const retryAt = retryAfterFailure(policy, at.getTime());
    const message = `etcd snapshot from ${step.member} failed: ${(error as Error).message}; tried again at ${new Date(retryAt).toISOString()}`;
    deps.log.warn({ member: step.member }, message);
    await deps.events?.record(cluster, 'Warning', 'EtcdSnapshotFailed', 'EtcdSnapshot', message);
    return { kind: 'failed', message, retryAt };
  }
}
