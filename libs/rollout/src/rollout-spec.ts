import { labelSelectorProblems, type LabelSelector } from './label-selector.ts';

/**
 * The rollout part of a NodePool spec, as the planner reads it. It mirrors
 * `NodePool.spec.rollout` (plus `spec.paused`) but is defined here so the
 * planner depends on no other lib.
 */

/** An absolute number of machines (`3`) or a percentage of the pool (`"10%"`). */
export type IntOrPercent = number | string;

/**
 * One canary wave. Waves are cumulative: each one covers the machines of the
 * waves before it plus its own, and a wave's machines only start once every
 * earlier wave is complete (and baked, and released when it has `pauseAfter`).
 * Set exactly one of `count`, `percent` or `selector`.
 */
export interface WaveSpec {
  /** Shown in messages, e.g. "canary". Default: the wave is called by its index, `waves[2]`. */
  name?: string;
  /** Grow the rolled-out set to at least this many machines (in rollout order), counting earlier waves. */
  count?: number;
  /**
   * Grow the rolled-out set to at least this percentage of the pool's machines (in rollout order),
   * counting earlier waves. Rounded up, so `1` on a 50-machine pool is a one-machine canary.
   */
  percent?: number;
  /** Add every machine this label selector matches that no earlier wave holds. */
  selector?: LabelSelector;
  /**
   * What happens once this wave is complete (and baked): `true` holds the pool until a person
   * resumes it (the caller passes `resumedAfterWave`); a number holds it that many seconds, then the
   * rollout continues on its own. Ignored on the last wave. Default: no hold.
   */
  pauseAfter?: boolean | number;
  /**
   * Seconds the wave must stay healthy after its last machine finished before the next wave may start;
   * failures that show up while baking still count against `maxFailed`. On the last wave it delays
   * `complete`. Default 0.
   */
  bakeSeconds?: number;
}

export interface RolloutSpec {
  /**
   * How many machines may be unavailable at once, whatever the cause (rollout, remediation, a dead host).
   * A percentage is of the pool's machines, rounded down but at least 1 (only an explicit `0` or `"0%"`
   * means none). Default 1.
   */
  maxUnavailable?: IntOrPercent;
  /** Canary waves, in order. Machines no wave covers form one last implicit wave. Default: one wave of all machines. */
  waves?: readonly WaveSpec[];
  /**
   * How many machines may fail at the target revision before the pool stops; the pool stops when
   * more than this many have failed. Default 0: the first failure stops it.
   */
  maxFailed?: number;
  /**
   * When the failure budget is spent, send the failed and in-flight machines back to the last good
   * revision instead of only pausing. Machines already healthy at the target stay there. Default false.
   */
  autoRollback?: boolean;
  /** Label keys that order the rollout (e.g. `["topology.kubernetes.io/zone", "rack"]`), then the machine name. Default: by name only. */
  order?: readonly string[];
  /** Start nothing and roll nothing back; machines already handed a revision finish. Default false. */
  paused?: boolean;
  /**
   * Seconds a machine told the target revision has to become healthy running it (counted from its
   * `startedAt`); after that it counts as failed at the target, against `maxFailed`. Default: no
   * deadline (the node-operator passes the NodePool's, 600 unless set).
   */
  progressDeadlineSeconds?: number;
  /**
   * Seconds the rollout's drain of a machine may take (counted from its `drainStartedAt`); after that
   * it counts as failed at the target, against `maxFailed`, while the drain goes on. Default: no
   * timeout (the node-operator passes the NodePool's `drain.timeoutSeconds`, 600 unless set).
   */
  drainTimeoutSeconds?: number;
}

export const DEFAULT_MAX_UNAVAILABLE = 1;
export const DEFAULT_MAX_FAILED = 0;

const PERCENT = /^(\d+)%$/;

/** Why `value` is not a valid maxUnavailable, or undefined when it is. */
export function maxUnavailableProblem(value: IntOrPercent): string | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0
      ? undefined
      : `maxUnavailable must be a whole number of machines (0 or more) or a percentage like "10%", got ${value}`;
  }
  const match = PERCENT.exec(value);
  if (!match)
    return `maxUnavailable must be a whole number or a percentage like "10%", got ${JSON.stringify(value)}`;
  const percent = Number(match[1]);
  return percent <= 100 ? undefined : `maxUnavailable must be at most "100%", got ${JSON.stringify(value)}`;
}

/** Every problem that keeps the planner from acting on `spec`, each naming the field and what to write instead. */
export function rolloutSpecProblems(spec: RolloutSpec): string[] {
  const problems: string[] = [];
  if (spec.maxUnavailable !== undefined) {
    const problem = maxUnavailableProblem(spec.maxUnavailable);
    if (problem) problems.push(`rollout.strategy.rollingUpdate.${problem}`);
  }
  if (spec.maxFailed !== undefined && !isWholeNumber(spec.maxFailed)) {
    problems.push(`rollout.maxFailed must be a whole number (0 or more), got ${spec.maxFailed}`);
  }
  if (
    spec.progressDeadlineSeconds !== undefined &&
    !(spec.progressDeadlineSeconds > 0 && Number.isFinite(spec.progressDeadlineSeconds))
  ) {
    problems.push(
      `rollout.progressDeadlineSeconds must be more than 0 seconds, got ${spec.progressDeadlineSeconds}`,
    );
  }
  if (
    spec.drainTimeoutSeconds !== undefined &&
    !(spec.drainTimeoutSeconds > 0 && Number.isFinite(spec.drainTimeoutSeconds))
  ) {
    problems.push(`drain.timeoutSeconds must be more than 0 seconds, got ${spec.drainTimeoutSeconds}`);
  }
  (spec.waves ?? []).forEach((wave, index) =>
    problems.push(...waveProblems(wave, `rollout.waves[${index}]`)),
  );
  return problems;
}

function waveProblems(wave: WaveSpec, field: string): string[] {
  const problems: string[] = [];
  const kinds = (['count', 'percent', 'selector'] as const).filter((kind) => wave[kind] !== undefined);
  if (kinds.length !== 1) {
    const found = kinds.length === 0 ? 'none' : kinds.join(' and ');
    problems.push(`${field}: set exactly one of count, percent or selector (found ${found})`);
  }
  if (wave.count !== undefined && !isWholeNumber(wave.count)) {
    problems.push(`${field}.count must be a whole number (0 or more), got ${wave.count}`);
  }
  if (wave.percent !== undefined && !(wave.percent >= 0 && wave.percent <= 100)) {
    problems.push(`${field}.percent must be between 0 and 100, got ${wave.percent}`);
  }
  if (wave.selector !== undefined)
    problems.push(...labelSelectorProblems(wave.selector, `${field}.selector`));
  if (wave.bakeSeconds !== undefined && !(wave.bakeSeconds >= 0 && Number.isFinite(wave.bakeSeconds))) {
    problems.push(`${field}.bakeSeconds must be 0 or more seconds, got ${wave.bakeSeconds}`);
  }
  if (typeof wave.pauseAfter === 'number' && !(wave.pauseAfter >= 0 && Number.isFinite(wave.pauseAfter))) {
    problems.push(`${field}.pauseAfter must be true, false or 0 or more seconds, got ${wave.pauseAfter}`);
  }
  return problems;
}

function isWholeNumber(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}
