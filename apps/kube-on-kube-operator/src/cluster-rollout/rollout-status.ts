/**
 * A ClusterRollout's status from its plan. Pure; conditions move their
 * transition time only when they change, so an unchanged world gives an
 * identical status and no write.
 */
import { metaTime, setCondition } from '@kok/api';
import type { ClusterRolloutStatus, Condition, REMAINING_WAVE_NAME } from '@kok/api';
import { REMAINING_WAVE_NAME as PLANNED_REMAINING_WAVE_NAME } from '@kok/rollout';
import type { ClusterRolloutPlan as RolloutPlan } from '@kok/rollout';

// The status names the implicit wave as the API documents it: this stops compiling if the two part.
const _sameRemainingWaveName: typeof REMAINING_WAVE_NAME = PLANNED_REMAINING_WAVE_NAME;

export const RolloutConditions = {
  Progressing: 'Progressing',
  Paused: 'Paused',
  Complete: 'Complete',
  Degraded: 'Degraded',
} as const;

export function rolloutStatus(
  previous: ClusterRolloutStatus | undefined,
  generation: number,
  plan: RolloutPlan,
  now: Date,
): ClusterRolloutStatus {
  let conditions: Condition[] = previous?.conditions ?? [];
  const set = (type: string, status: boolean, reason: string, message: string) => {
    conditions = setCondition(
      conditions,
      { type, status: status ? 'True' : 'False', reason, message, observedGeneration: generation },
      now,
    );
  };
  const { phase, hold } = plan;
  set(
    RolloutConditions.Progressing,
    phase === 'Progressing',
    phase === 'Progressing' ? 'WavesInProgress' : phase,
    plan.message,
  );
  const paused = hold?.reason === 'Paused' || hold?.reason === 'PausedAfterWave';
  set(
    RolloutConditions.Paused,
    paused,
    paused ? (hold?.reason ?? 'Paused') : 'NotPaused',
    paused ? plan.message : '',
  );
  set(
    RolloutConditions.Complete,
    phase === 'Succeeded',
    phase === 'Succeeded' ? 'AllClustersUpdated' : 'Incomplete',
    phase === 'Succeeded' ? plan.message : '',
  );
  const failed = hold?.reason === 'FailureBudgetExceeded';
  set(
    RolloutConditions.Degraded,
    failed,
    failed ? 'FailureBudgetExceeded' : 'AsExpected',
    failed ? plan.message : '',
  );

  const time = (ms: number) => metaTime(new Date(ms));
  return {
    observedGeneration: generation,
    phase,
    ...(plan.currentWave === undefined ? {} : { currentWave: plan.currentWave }),
    clusters: plan.counts.clusters,
    updatedClusters: plan.counts.updated,
    upgradingClusters: plan.counts.upgrading,
    failedClusters: plan.counts.failed,
    message: plan.message.slice(0, 4096),
    waves: plan.waves.map((w) => ({
      index: w.index,
      name: w.name,
      state: w.state,
      clusters: w.clusters,
      updated: w.updated,
      upgrading: w.upgrading,
      failed: w.failed,
      ...(w.startedAt === undefined ? {} : { startedAt: time(w.startedAt) }),
      ...(w.finishedAt === undefined ? {} : { finishedAt: time(w.finishedAt) }),
    })),
    conditions,
  };
}
