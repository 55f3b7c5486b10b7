/**
 * What a ClusterRollout plans over: the Clusters it selects and the planner's
 * input read from the rollout object. The operator and a preview of the
 * rollout (kubectl kok clusterrollout plan) both start here, so a preview
 * plans what the operator will do.
 *
 * The ClusterRollout and Cluster types live in @kok/api, which this lib may
 * not import: the shapes here are what is read of them, and callers hand the
 * API objects on as these, so a field that stops matching fails to compile
 * there.
 */
import type { EpochMillis } from '../machine-state.ts';
import { matchesSelector, type LabelSelector } from '../label-selector.ts';
import { pauseAfterWaveOf } from '../pause-after-wave.ts';
import type { ClusterState, ClusterWaveSpec, NodeComponentVersion, RolloutInput } from './plan.ts';

/** ClusterRollout.spec.bakeSeconds when unset. */
export const DEFAULT_BAKE_SECONDS = 300;

/** What the planner reads of ClusterRollout.spec. */
export interface ClusterRolloutSpecView {
  clusterSelector: LabelSelector;
  version: string;
  nodePools?: { components: readonly NodeComponentVersion[] };
  waves?: readonly ClusterWaveSpec[];
  bakeSeconds?: number;
  maxFailed?: number;
  paused?: boolean;
}

/** What selection reads of a ClusterRollout. */
export interface SelectingRollout {
  metadata: { uid?: string };
  spec: ClusterRolloutSpecView;
  status?: { phase?: string };
}

/** What selection reads of a Cluster. */
export interface SelectableCluster {
  metadata: { labels?: Readonly<Record<string, string>>; deletionTimestamp?: unknown };
}

/**
 * The Clusters of the rollout's namespace its selector matches, less those
 * another rollout started and has not finished (a Failed one holds its
 * clusters until it is deleted): two rollouts never fight over a cluster's
 * version. `clusters` and `rollouts` are those of the rollout's namespace;
 * `recordedRollout` is the uid of the rollout that recorded it started a
 * cluster, if any.
 */
export function selectedClusters<C extends SelectableCluster>(
  rollout: SelectingRollout,
  clusters: readonly C[],
  rollouts: readonly SelectingRollout[],
  recordedRollout: (cluster: C) => string | undefined,
): C[] {
  const uid = rollout.metadata.uid;
  const others = new Map(
    rollouts.filter((r) => r.metadata.uid !== uid).map((r) => [r.metadata.uid ?? '', r] as const),
  );
  return clusters.filter((cluster) => {
    if (cluster.metadata.deletionTimestamp) return false;
    if (!matchesSelector(cluster.metadata.labels ?? {}, rollout.spec.clusterSelector)) return false;
    const recordUid = recordedRollout(cluster);
    const holder = recordUid === undefined ? undefined : others.get(recordUid);
    return !holder || holder.status?.phase === 'Succeeded';
  });
}

/**
 * The planner's input: the rollout's spec with its defaults, and whether a
 * person resumed it after a pauseAfter wave. `pausedAfterWave` is the
 * rollout's pause record (see pause-after-wave.ts), which the operator writes
 * in the same patch as spec.paused.
 */
export function clusterRolloutInput(
  spec: ClusterRolloutSpecView,
  pausedAfterWave: string | undefined,
  clusters: readonly ClusterState[],
  now: EpochMillis,
): RolloutInput {
  const paused = spec.paused === true;
  const pause = pauseAfterWaveOf(pausedAfterWave, spec.version, paused);
  const resumedAfterWave = pause?.resumed ? pause.wave : undefined;
  return {
    version: spec.version,
    ...(spec.nodePools ? { nodePools: spec.nodePools.components } : {}),
    waves: spec.waves ?? [],
    bakeSeconds: spec.bakeSeconds ?? DEFAULT_BAKE_SECONDS,
    maxFailed: spec.maxFailed ?? 0,
    paused,
    ...(resumedAfterWave === undefined ? {} : { resumedAfterWave }),
    clusters,
    now,
  };
}
