/**
 * The pause a rollout puts on itself after a `pauseAfter: true` wave, and how
 * its caller remembers it: the caller sets the rollout's `spec.paused` and, in
 * the same write, records `<target>/<wave>` on the rolled-out object (a
 * NodePool's or a ClusterRollout's annotation). So "recorded and not paused"
 * can only mean a person resumed the rollout past that wave.
 */

/** The record of a pause after wave `wave` of the rollout to `target` (a revision or a version). */
export function pausedAfterWaveValue(target: string, wave: number): string {
  return `${target}/${wave}`;
}

/** The target and wave of a pause record; undefined when there is none or it is garbled. */
export function parsePausedAfterWave(
  value: string | undefined,
): { target: string; wave: number } | undefined {
  const match = value === undefined ? null : /^(.+)\/(\d+)$/.exec(value);
  return match ? { target: match[1] as string, wave: Number(match[2]) } : undefined;
}

/**
 * The pause the record says the rollout to `target` put on itself, and whether
 * a person has resumed it since (`paused` is the rollout's `spec.paused` now);
 * undefined when the record is absent, garbled or about another target.
 */
export function pauseAfterWaveOf(
  value: string | undefined,
  target: string,
  paused: boolean,
): { wave: number; resumed: boolean } | undefined {
  const record = parsePausedAfterWave(value);
  return record?.target === target ? { wave: record.wave, resumed: !paused } : undefined;
}

/** What a NodePool's operator remembers about the rollout of a target revision, from status and its own annotation. */
export interface PoolRolloutMemory {
  resumedAfterWave?: number;
  rolledBack: boolean;
  /** The wave after which the operator paused the pool itself (pauseAfter: true), when that pause is for the target. */
  pausedAfterWave?: number;
  /** A person has set spec.paused back to false since the operator paused after `pausedAfterWave`. */
  resumed: boolean;
}

/** What the memory is read from: a NodePool's `status.rollout`, its pause record and `spec.paused`. */
export interface PoolRolloutMemoryView {
  /** `status.rollout`: what the operator recorded about the rollout of `revision`. */
  record?: { revision?: string; rolledBack?: boolean; resumedAfterWave?: number } | undefined;
  /** The pool's pause record (see {@link pausedAfterWaveValue}). */
  pausedAfterWave?: string | undefined;
  paused?: boolean | undefined;
}

/**
 * The rollout memory for `target`. A record about another revision is stale (a
 * new target starts afresh). A preview passes the live record and pause record
 * with the `paused` it proposes.
 */
export function poolRolloutMemory(pool: PoolRolloutMemoryView, target: string): PoolRolloutMemory {
  const record = pool.record?.revision === target ? pool.record : undefined;
  const memory: PoolRolloutMemory = { rolledBack: record?.rolledBack === true, resumed: false };
  if (record?.resumedAfterWave !== undefined) memory.resumedAfterWave = record.resumedAfterWave;
  const pause = pauseAfterWaveOf(pool.pausedAfterWave, target, pool.paused === true);
  if (pause) {
    memory.pausedAfterWave = pause.wave;
    if (pause.resumed) {
      memory.resumed = true;
      memory.resumedAfterWave = Math.max(memory.resumedAfterWave ?? -1, pause.wave);
    }
  }
  return memory;
}

/** The planner's inputs from the memory (RolloutInput's resumedAfterWave, pausedAfterWave and rolledBack). */
export function plannerMemory(memory: PoolRolloutMemory): {
  resumedAfterWave?: number;
  pausedAfterWave?: number;
  rolledBack: boolean;
} {
  return {
    ...(memory.resumedAfterWave === undefined ? {} : { resumedAfterWave: memory.resumedAfterWave }),
    // Once a person resumed, the machines no longer wait for that resume.
    ...(memory.pausedAfterWave === undefined || memory.resumed
      ? {}
      : { pausedAfterWave: memory.pausedAfterWave }),
    rolledBack: memory.rolledBack,
  };
}
