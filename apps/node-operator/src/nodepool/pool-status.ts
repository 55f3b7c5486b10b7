import { findCondition, NodePoolConditions, setCondition } from '@kok/api';
import type { ConditionUpdate, NodePool, NodePoolStatus } from '@kok/api';
import { listNames } from '@kok/rollout';
import type { RolloutPlan } from '@kok/rollout';
import { CATALOG_REASONS } from './catalog-check.ts';
import type { PoolHold } from './catalog-check.ts';
import { OVERLAP_REASONS, overlapCondition } from '../shared/pool-ownership.ts';

/** A catalog hold's reason is its own Paused reason and Event reason. */
const CATALOG_HOLDS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(CATALOG_REASONS).map((reason) => [reason, reason]),
);

/** Pauses that stop the pool until something changes (Paused=True); bakes and timed holds are part of rolling out. */
const STOPPING_PAUSES: Readonly<Record<string, string>> = {
  Paused: 'Paused',
  AwaitingResume: 'AwaitingResume',
  FailureBudgetExceeded: 'TooManyFailures',
  RolledBack: 'RolledBack',
  InvalidSpec: 'InvalidSpec',
  VersionSkew: 'VersionSkew',
  ...CATALOG_HOLDS,
};

/** Every reason Paused=True can carry (the pool-metrics series). */
export const PAUSED_REASONS: readonly string[] = [...new Set(Object.values(STOPPING_PAUSES))];

export interface PoolStatusInput {
  pool: NodePool;
  plan: RolloutPlan;
  /** status.rollout.resumedAfterWave to keep. */
  resumedAfterWave?: number;
  /** The version-skew guard or the catalog check holds the pool: the Paused reason and why. Default: not held. */
  blockedBy?: PoolHold;
  /** The MachinesOverlap condition (see pool-ownership.ts). Default: no overlap. */
  overlap?: ConditionUpdate;
  now: Date;
}

/** The pool's whole status for one plan: counts, revisions, wave, rollout memory and conditions. Pure. */
export function poolStatusFor({
  pool,
  plan,
  resumedAfterWave,
  blockedBy,
  overlap = overlapCondition({ owned: [], lost: [], contested: [] }),
  now,
}: PoolStatusInput): NodePoolStatus {
  const previous = pool.status ?? {};
  const generation = pool.metadata?.generation;
  const target = plan.targetRevision;
  const currentRevision = plan.complete ? target : previous.currentRevision;
  const pause = blockedBy ?? plan.pause;
  const stoppedReason = pause ? STOPPING_PAUSES[pause.reason] : undefined;
  const message = blockedBy?.message ?? plan.message;
  const g = generation === undefined ? {} : { observedGeneration: generation };

  const updates: ConditionUpdate[] = [
    plan.counts.unavailableMachines <= plan.maxUnavailable
      ? {
          type: NodePoolConditions.Available,
          status: 'True',
          reason: 'WithinBudget',
          message: `${plan.counts.unavailableMachines} of ${plan.counts.machines} machines unavailable (maxUnavailable ${plan.maxUnavailable})`,
        }
      : {
          type: NodePoolConditions.Available,
          status: 'False',
          reason: 'TooManyUnavailable',
          message: `${plan.counts.unavailableMachines} of ${plan.counts.machines} machines unavailable, more than maxUnavailable ${plan.maxUnavailable}`,
        },
    plan.complete
      ? { type: NodePoolConditions.RollingOut, status: 'False', reason: 'Complete', message }
      : stoppedReason
        ? { type: NodePoolConditions.RollingOut, status: 'False', reason: stoppedReason, message }
        : {
            type: NodePoolConditions.RollingOut,
            status: 'True',
            reason: pause?.reason ?? 'RollingOut',
            message,
          },
    stoppedReason
      ? {
          type: NodePoolConditions.Paused,
          status: 'True',
          reason: stoppedReason,
          message: pause?.message ?? '',
        }
      : { type: NodePoolConditions.Paused, status: 'False', reason: 'NotPaused', message: '' },
    degraded(plan, stoppedReason, pause?.message),
    plan.rolledBack
      ? {
          type: NodePoolConditions.RolledBack,
          status: 'True',
          reason: 'RolledBack',
          // The plan that decided the rollback names the failed machines; later plans only say it happened.
          message: rolledBackMessage(previous, plan),
        }
      : { type: NodePoolConditions.RolledBack, status: 'False', reason: 'NotRolledBack', message: '' },
    overlap,
  ];
  let conditions = previous.conditions;
  for (const update of updates) conditions = setCondition(conditions, { ...update, ...g }, now);

  const status: NodePoolStatus = {
    updateRevision: target,
    ...plan.counts,
    currentWave: plan.currentWave,
    conditions,
    rollout: {
      revision: target,
      ...(resumedAfterWave === undefined ? {} : { resumedAfterWave }),
      ...(plan.rolledBack ? { rolledBack: true } : {}),
    },
    ...g,
  };
  if (currentRevision !== undefined) status.currentRevision = currentRevision;
  return status;
}

function rolledBackMessage(previous: NodePoolStatus, plan: RolloutPlan): string {
  const existing = findCondition(previous.conditions, NodePoolConditions.RolledBack);
  if (!plan.rollback && existing?.status === 'True' && previous.updateRevision === plan.targetRevision)
    return existing.message;
  return plan.message;
}

/** Stops for a problem a person must fix in the spec, the catalog or the fleet. */
const DEGRADING_STOPS: ReadonlySet<string> = new Set([
  'VersionSkew',
  'InvalidSpec',
  'TooManyFailures',
  ...Object.values(CATALOG_REASONS),
]);

function degraded(plan: RolloutPlan, stoppedReason: string | undefined, pauseMessage = ''): ConditionUpdate {
  const type = NodePoolConditions.Degraded;
  if (stoppedReason !== undefined && DEGRADING_STOPS.has(stoppedReason))
    return { type, status: 'True', reason: stoppedReason, message: pauseMessage };
  if (plan.counts.failedMachines > 0)
    return {
      type,
      status: 'True',
      reason: 'MachinesFailed',
      message: `${plan.counts.failedMachines} machines report a failure`,
    };
  return { type, status: 'False', reason: 'Healthy', message: '' };
}

export interface PoolEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

/** The Events a person wants when the pool moves from `before` to `after` under `plan`: one per decision. */
export function poolEvents(
  before: NodePoolStatus | undefined,
  after: NodePoolStatus,
  plan: RolloutPlan,
  waveNames: readonly string[],
): PoolEvent[] {
  const events: PoolEvent[] = [];
  const waveLabel = (index: number): string =>
    waveNames[index] ?? (index >= waveNames.length ? 'the remaining machines' : `wave ${index}`);
  const newTarget = before?.updateRevision !== after.updateRevision;
  const wasPaused = findCondition(before?.conditions, NodePoolConditions.Paused);
  const isPaused = findCondition(after.conditions, NodePoolConditions.Paused);
  const wasRolling = findCondition(before?.conditions, NodePoolConditions.RollingOut);
  const isRolling = findCondition(after.conditions, NodePoolConditions.RollingOut);

  const rollingNow = isRolling?.status === 'True' && plan.pause === undefined;
  const startedWave =
    rollingNow && (newTarget || before?.currentWave !== after.currentWave || wasRolling?.status !== 'True');
  if (startedWave && plan.assign.length + plan.cordon.length > 0)
    events.push({
      type: 'Normal',
      reason: 'WaveStarted',
      note: `${waveLabel(plan.currentWave)} of revision ${plan.targetRevision} started: ${plan.message}`,
    });
  const holdReasons = new Set(['Baking', 'PauseAfter', 'AwaitingResume']);
  if (
    plan.pause &&
    holdReasons.has(plan.pause.reason) &&
    (wasRolling?.reason !== isRolling?.reason || wasPaused?.reason !== isPaused?.reason || newTarget)
  )
    events.push({ type: 'Normal', reason: 'WaveCompleted', note: plan.pause.message });
  // A catalog problem is told again when it changes (another component or version), not only its reason.
  const catalogProblemChanged =
    isPaused !== undefined &&
    CATALOG_HOLDS[isPaused.reason] !== undefined &&
    wasPaused?.message !== isPaused.message;
  if (
    isPaused?.status === 'True' &&
    (wasPaused?.status !== 'True' || wasPaused.reason !== isPaused.reason || catalogProblemChanged)
  ) {
    const warning = isPaused.reason !== 'Paused' && isPaused.reason !== 'AwaitingResume';
    const reason =
      {
        TooManyFailures: 'RolloutFailed',
        RolledBack: 'RolledBack',
        VersionSkew: 'VersionSkewBlocked',
        InvalidSpec: 'InvalidSpec',
        ...CATALOG_HOLDS,
      }[isPaused.reason] ?? 'Paused';
    events.push({ type: warning ? 'Warning' : 'Normal', reason, note: isPaused.message });
  }
  if (plan.rollback)
    events.push({
      type: 'Warning',
      reason: 'RollingBack',
      // Names a few: a rollback can send hundreds of machines back, and an Event note is short.
      note: `sending ${listNames(plan.rollback.machines)} back to revision ${plan.rollback.toRevision}`,
    });
  if (plan.complete && before?.currentRevision !== after.currentRevision)
    events.push({ type: 'Normal', reason: 'RolloutComplete', note: plan.message });
  const wasOverlapping = findCondition(before?.conditions, NodePoolConditions.MachinesOverlap);
  const overlap = findCondition(after.conditions, NodePoolConditions.MachinesOverlap);
  // Once per new set of lost machines: a pool that loses machines to another must be told; the winner is not.
  if (
    overlap?.reason === OVERLAP_REASONS.lost &&
    (wasOverlapping?.reason !== overlap.reason || wasOverlapping.message !== overlap.message)
  )
    events.push({ type: 'Warning', reason: OVERLAP_REASONS.lost, note: overlap.message });
  return events;
}
