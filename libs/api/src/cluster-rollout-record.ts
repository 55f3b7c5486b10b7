/**
 * What a ClusterRollout keeps on each Cluster it started, in one annotation:
 * which rollout, which wave, which version, when, and whether it failed. This
 * is the rollout's durable per-cluster state, so its own status stays counts
 * and an operator restart finds every cluster's wave and failure again.
 */

/**
 * What the rollout wrote on a Cluster it started, as the ClusterRollout
 * planner (@kok/rollout) reads it (its ClusterRecord; times in epoch
 * milliseconds).
 */
export interface ClusterRecord {
  wave: string;
  /** The version the rollout told the cluster. */
  version: string;
  startedAt: number;
  /** Set once the rollout saw the cluster fail at `version`. */
  failedAt?: number;
  failure?: string;
}

/** On a Cluster: JSON of {@link StoredRecord}. */
export const ROLLOUT_RECORD_ANNOTATION = 'clusters.kok.dev/rollout';

interface StoredRecord {
  /** Name and uid of the ClusterRollout: a rollout recreated under the same name starts afresh. */
  rollout: string;
  uid: string;
  wave: string;
  version: string;
  startedAt: string;
  failedAt?: string;
  failure?: string;
}

export interface OwnedRecord extends ClusterRecord {
  rollout: string;
  uid: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** The record on a Cluster's annotations, or undefined when there is none or it is not readable. */
export function readRecord(
  annotations: Readonly<Record<string, string>> | undefined,
): OwnedRecord | undefined {
  const raw = annotations?.[ROLLOUT_RECORD_ANNOTATION];
  if (!raw) return undefined;
  let parsed: Partial<StoredRecord>;
  try {
    parsed = JSON.parse(raw) as Partial<StoredRecord>;
  } catch {
    return undefined;
  }
  const { rollout, uid, wave, version, startedAt, failedAt, failure } = parsed;
  if (![rollout, uid, wave, version, startedAt].every(isString)) return undefined;
  const started = Date.parse(startedAt as string);
  if (Number.isNaN(started)) return undefined;
  const failed = isString(failedAt) ? Date.parse(failedAt) : NaN;
  return {
    rollout: rollout as string,
    uid: uid as string,
    wave: wave as string,
    version: version as string,
    startedAt: started,
    ...(Number.isNaN(failed) ? {} : { failedAt: failed, ...(isString(failure) ? { failure } : {}) }),
  };
}

/** The annotation value for `record`. */
export function recordValue(record: OwnedRecord): string {
  const stored: StoredRecord = {
    rollout: record.rollout,
    uid: record.uid,
    wave: record.wave,
    version: record.version,
    startedAt: new Date(record.startedAt).toISOString(),
    ...(record.failedAt === undefined
      ? {}
      : { failedAt: new Date(record.failedAt).toISOString(), failure: record.failure ?? '' }),
  };
  return JSON.stringify(stored);
}

/** The uid of the ClusterRollout recorded on the Cluster, or undefined when none is. */
export function recordedRolloutUid(cluster: {
  metadata: { annotations?: Readonly<Record<string, string>> };
}): string | undefined {
  return readRecord(cluster.metadata.annotations)?.uid;
}
