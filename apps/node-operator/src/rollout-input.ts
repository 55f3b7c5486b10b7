import type { Machine, NodePool } from '@kok/api';
import { matchesSelector } from '@kok/rollout';
import type { RolloutSpec, WaveSpec } from '@kok/rollout';
import { OperatorAnnotations } from './resources.ts';

/** NodePool.spec.rollout.progressDeadlineSeconds when unset. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** NodePool.spec.drain.timeoutSeconds when unset. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;

/** A Machine belongs to a pool by the pool's selector, or else by `spec.pool` naming it. */
export function isPoolMember(machine: Machine, pool: NodePool): boolean {
  const selector = pool.spec.selector;
  if (selector) return matchesSelector(machine.metadata?.labels ?? {}, selector);
  return machine.spec?.pool !== undefined && machine.spec.pool === pool.metadata?.name;
}

/** The planner's view of `NodePool.spec.rollout` (see libs/rollout/README.md for the mapping). */
export function rolloutSpecOf(pool: NodePool): RolloutSpec {
  const rollout = pool.spec.rollout;
  const spec: RolloutSpec = { paused: pool.spec.paused === true };
  const maxUnavailable = rollout?.strategy?.rollingUpdate?.maxUnavailable;
  if (maxUnavailable !== undefined) spec.maxUnavailable = maxUnavailable;
  if (rollout?.waves) spec.waves = rollout.waves.map(waveSpecOf);
  if (rollout?.maxFailed !== undefined) spec.maxFailed = rollout.maxFailed;
  if (rollout?.autoRollback !== undefined) spec.autoRollback = rollout.autoRollback;
  if (rollout?.order) spec.order = rollout.order.labelKeys;
  // The apiserver defaults it; an object that skipped defaulting gets the same.
  spec.progressDeadlineSeconds = rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  // 0 means no drain timeout; the planner knows only "unset" for that.
  const drainTimeoutSeconds = pool.spec.drain?.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
  if (drainTimeoutSeconds > 0) spec.drainTimeoutSeconds = drainTimeoutSeconds;
  return spec;
}

function waveSpecOf(wave: NonNullable<NonNullable<NodePool['spec']['rollout']>['waves']>[number]): WaveSpec {
  const spec: WaveSpec = { name: wave.name };
  if (wave.count !== undefined) spec.count = wave.count;
  if (wave.percent !== undefined) spec.percent = wave.percent;
  if (wave.selector !== undefined) spec.selector = wave.selector;
  if (wave.pauseAfter) spec.pauseAfter = true;
  if (wave.bakeSeconds) spec.bakeSeconds = wave.bakeSeconds;
  return spec;
}

/** What the operator remembers about the rollout of `target`, from status and its own annotation. */
export interface RolloutMemory {
  resumedAfterWave?: number;
  rolledBack: boolean;
  /** The wave after which the operator paused the pool itself (pauseAfter: true), when that pause is for `target`. */
  pausedAfterWave?: number;
  /** A person has set spec.paused back to false since the operator paused after `pausedAfterWave`. */
  resumed: boolean;
}

/**
 * Reads the rollout memory for `target`. status.rollout about another revision
 * is stale (a new target starts afresh). The operator's pause after a wave is
 * recorded in the same write as `spec.paused: true`, so "annotation present and
 * spec.paused false" can only mean a person resumed the pool.
 */
export function rolloutMemoryFor(pool: NodePool, target: string): RolloutMemory {
  const record = pool.status?.rollout?.revision === target ? pool.status.rollout : undefined;
  const memory: RolloutMemory = { rolledBack: record?.rolledBack === true, resumed: false };
  if (record?.resumedAfterWave !== undefined) memory.resumedAfterWave = record.resumedAfterWave;
  const pausedAfter = parsePausedAfterWave(pool.metadata?.annotations?.[OperatorAnnotations.pausedAfterWave]);
  if (pausedAfter && pausedAfter.revision === target) {
    memory.pausedAfterWave = pausedAfter.wave;
    if (pool.spec.paused !== true) {
      memory.resumed = true;
      memory.resumedAfterWave = Math.max(memory.resumedAfterWave ?? -1, pausedAfter.wave);
    }
  }
  return memory;
}

export function pausedAfterWaveValue(revision: string, wave: number): string {
  return `${revision}/${wave}`;
}

export function parsePausedAfterWave(
  value: string | undefined,
): { revision: string; wave: number } | undefined {
  const match = value === undefined ? null : /^([^/]+)\/(\d+)$/.exec(value);
  return match ? { revision: match[1] as string, wave: Number(match[2]) } : undefined;
}
