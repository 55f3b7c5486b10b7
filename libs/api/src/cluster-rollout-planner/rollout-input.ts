/**
 * What a ClusterRollout plans over: the Clusters it selects and the
 * planner's input read from the rollout object. The operator and a preview of
 * the rollout (kubectl kok clusterrollout plan) both start here, so a preview
 * plans what the operator will do.
 */
import type { ClusterRolloutSpec, ClusterRolloutStatus } from '../cluster-rollout.ts';
import { readRecord } from './cluster-record.ts';
import { matchesSelector } from './label-selector.ts';
import type { ClusterObject } from './observe-cluster.ts';
import type { ClusterState, EpochMillis, RolloutInput } from './plan.ts';
import type { RolloutWaveSpec } from './wave-membership.ts';

/**
 * On a ClusterRollout: `<version>/<wave index>` of the pauseAfter wave after
 * which the operator set spec.paused. Written in the same patch as the pause,
 * so "annotation present and spec.paused false" can only mean a person resumed.
 */
export const PAUSED_AFTER_WAVE_ANNOTATION = 'clusters.kok.dev/paused-after-wave';

export const DEFAULT_BAKE_SECONDS = 300;

/** What the planner reads of a ClusterRollout. */
export interface ClusterRolloutView {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
  };
  spec: ClusterRolloutSpec;
  status?: Pick<ClusterRolloutStatus, 'phase'>;
}

/**
 * The Clusters of the rollout's namespace its selector matches, less those
 * another rollout started and has not finished (a Failed one holds its
 * clusters until it is deleted): two rollouts never fight over a cluster's
 * version. `clusters` and `rollouts` are those of the rollout's namespace.
 */
export function selectedClusters<C extends ClusterObject>(
  rollout: ClusterRolloutView,
  clusters: readonly C[],
  rollouts: readonly ClusterRolloutView[],
): C[] {
  const uid = rollout.metadata.uid;
  const others = new Map(
    rollouts.filter((r) => r.metadata.uid !== uid).map((r) => [r.metadata.uid ?? '', r] as const),
  );
  return clusters.filter((cluster) => {
    if (cluster.metadata.deletionTimestamp) return false;
    if (!matchesSelector(cluster.metadata.labels ?? {}, rollout.spec.clusterSelector)) return false;
    const recordUid = readRecord(cluster.metadata.annotations)?.uid;
    const holder = recordUid === undefined ? undefined : others.get(recordUid);
    return !holder || holder.status?.phase === 'Succeeded';
  });
}

/** The planner's input: the rollout's spec with its defaults, and whether a person resumed it after a pauseAfter wave. */
export function clusterRolloutInput(
  rollout: ClusterRolloutView,
  clusters: ClusterState[],
  now: EpochMillis,
): RolloutInput {
  const { spec } = rollout;
  const paused = spec.paused === true;
  const pausedAfter = parsePausedAfterWave(rollout.metadata.annotations?.[PAUSED_AFTER_WAVE_ANNOTATION]);
  const resumedAfterWave = pausedAfter?.version === spec.version && !paused ? pausedAfter.wave : undefined;
  return {
    version: spec.version,
    waves: (spec.waves ?? []) as RolloutWaveSpec[],
    bakeSeconds: spec.bakeSeconds ?? DEFAULT_BAKE_SECONDS,
    maxFailed: spec.maxFailed ?? 0,
    paused,
    ...(resumedAfterWave === undefined ? {} : { resumedAfterWave }),
    clusters,
    now,
  };
}

function parsePausedAfterWave(value: string | undefined): { version: string; wave: number } | undefined {
  const match = value === undefined ? null : /^(.+)\/(\d+)$/.exec(value);
  return match ? { version: match[1] as string, wave: Number(match[2]) } : undefined;
}
