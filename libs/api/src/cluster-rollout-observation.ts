/**
 * What the ClusterRollout planner (@kok/rollout planClusterRollout) needs to
 * know of one Cluster, read from its object alone. The planner's types live in
 * @kok/rollout, which this lib may not import: ObservedClusterState mirrors its
 * ClusterState, and callers hand it on as one, so a field that stops matching
 * fails to compile there.
 */
import type { ClusterSpec, ClusterStatus } from './cluster.ts';
import { isClusterPaused, PROGRESS_DEADLINE_EXCEEDED } from './cluster.ts';
import { findCondition } from './conditions.ts';
import { ClusterConditions } from './well-known.ts';
import type { ClusterRecord } from './cluster-rollout-record.ts';
import { readRecord } from './cluster-rollout-record.ts';

/** Milliseconds since the Unix epoch. */
type EpochMillis = number;

/** One selected Cluster as observed (the planner's ClusterState). */
export interface ObservedClusterState {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** spec.version. */
  version: string;
  /** When it became Available with every component at `version`; undefined while it is not. */
  availableSince?: EpochMillis;
  /** Why its upgrade to `version` failed (Degraded after its own rollback); undefined otherwise. */
  failure?: string;
  /** Why it does not move toward `version` though nothing failed (Degraded for a hold, e.g. kubelets too old). */
  held?: string;
  /** What this rollout recorded on it; undefined when it never started it. */
  record?: ClusterRecord;
  /** spec.paused or the pause annotation: nothing upgrades it. */
  paused?: boolean;
  /** spec.nodePools.components; undefined when unset. */
  nodePools?: readonly { name: string; version: string }[];
  /** When its NodePools were reported up to date with them; undefined while not. */
  nodePoolsUpToDateSince?: EpochMillis;
}

/** What the planner reads of a Cluster: any object shaped like one as the apiserver serves it. */
export interface ClusterObject {
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    deletionTimestamp?: unknown;
  };
  spec: ClusterSpec;
  status?: ClusterStatus;
}

/**
 * `rolloutUid` names the rollout whose record counts; records of other
 * rollouts are ignored here.
 */
export function observeCluster(cluster: ClusterObject, rolloutUid: string): ObservedClusterState {
  const record = readRecord(cluster.metadata.annotations);
  const availableSince = availableSinceOf(cluster);
  const failure = failureOf(cluster);
  const held = heldOf(cluster);
  const nodePools = cluster.spec.nodePools?.components;
  const nodePoolsUpToDateSince = nodePoolsUpToDateSinceOf(cluster);
  return {
    name: cluster.metadata.name ?? '',
    labels: cluster.metadata.labels ?? {},
    version: cluster.spec.version,
    ...(isClusterPaused(cluster) ? { paused: true } : {}),
    ...(availableSince === undefined ? {} : { availableSince }),
    ...(failure === undefined ? {} : { failure }),
    ...(held === undefined ? {} : { held }),
    ...(nodePools === undefined ? {} : { nodePools }),
    ...(nodePoolsUpToDateSince === undefined ? {} : { nodePoolsUpToDateSince }),
    ...(record?.uid === rolloutUid
      ? {
          record: {
            wave: record.wave,
            version: record.version,
            startedAt: record.startedAt,
            ...(record.failedAt === undefined
              ? {}
              : {
                  failedAt: record.failedAt,
                  ...(record.failure === undefined ? {} : { failure: record.failure }),
                }),
          },
        }
      : {}),
  };
}

const isCurrent = (cluster: ClusterObject): boolean =>
  cluster.status?.observedGeneration !== undefined &&
  cluster.status.observedGeneration === cluster.metadata.generation;

/**
 * When the cluster became Available with every component at spec.version:
 * the latest of the upgrade's completion and the last transitions of
 * Available and Progressing. Undefined while the status is about an older spec, or it is not
 * Available there, or it is still Progressing.
 */
export function availableSinceOf(cluster: ClusterObject): EpochMillis | undefined {
  const status = cluster.status;
  if (!isCurrent(cluster) || status?.version?.current !== cluster.spec.version) return undefined;
  const available = findCondition(status.conditions, ClusterConditions.Available);
  if (available?.status !== 'True') return undefined;
  // Settled: a cluster still rolling something out (again) has not finished its part yet, and its bake
  // counts from when it stopped.
  const progressing = findCondition(status.conditions, ClusterConditions.Progressing);
  if (progressing?.status === 'True') return undefined;
  const completed = status.version.history?.find(
    (h) => h.version === cluster.spec.version && h.state === 'Completed',
  )?.completionTime;
  const times = [available.lastTransitionTime, completed, progressing?.lastTransitionTime]
    .filter((t): t is string => t !== undefined)
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return times.length === 0 ? undefined : Math.max(...times);
}

/**
 * When the kube-on-kube operator reported the cluster's NodePools up to date with spec.nodePools: the last
 * transition of NodePoolsUpToDate to True, written for the current spec. Undefined otherwise.
 */
export function nodePoolsUpToDateSinceOf(cluster: ClusterObject): EpochMillis | undefined {
  const upToDate = findCondition(cluster.status?.conditions, ClusterConditions.NodePoolsUpToDate);
  if (upToDate?.status !== 'True' || upToDate.observedGeneration !== cluster.metadata.generation)
    return undefined;
  const at = Date.parse(upToDate.lastTransitionTime);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * The cluster is Degraded for its current spec without having failed (the operator holds it: kubelets too
 * old for spec.version, a name taken, its PKI in doubt …): `<reason>: <message>`, else undefined.
 */
export function heldOf(cluster: ClusterObject): string | undefined {
  const degraded = findCondition(cluster.status?.conditions, ClusterConditions.Degraded);
  // The condition's generation, not the status's: a held Cluster keeps the rest of its status as it was.
  if (
    degraded?.status === 'True' &&
    degraded.reason !== PROGRESS_DEADLINE_EXCEEDED &&
    degraded.observedGeneration === cluster.metadata.generation
  )
    return degraded.message ? `${degraded.reason}: ${degraded.message}` : degraded.reason;
  return undefined;
}

/** The cluster rolled its upgrade to spec.version back and is Degraded for it: why, else undefined. */
export function failureOf(cluster: ClusterObject): string | undefined {
  const degraded = findCondition(cluster.status?.conditions, ClusterConditions.Degraded);
  if (
    isCurrent(cluster) &&
    degraded?.status === 'True' &&
    degraded.reason === PROGRESS_DEADLINE_EXCEEDED &&
    degraded.observedGeneration === cluster.metadata.generation
  )
    return degraded.message || degraded.reason;
  return undefined;
}
