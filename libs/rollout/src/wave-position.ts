import type { EpochMillis } from './machine-state.ts';
import { formatTime } from './messages.ts';
import type { RolloutPause } from './rollout-plan.ts';
import { holdAfterWave, isWaveComplete, type Wave, type WaveHold } from './waves.ts';

/** Where a rollout stands among its waves. */
export interface WavePosition {
  /** The last wave whose machines may start; `status.currentWave`. */
  openWave: number;
  /** What keeps the wave after `openWave` from opening (on the last wave: the rollout from completing). */
  hold?: WaveHold;
}

/**
 * The furthest wave with a machine told the target stays open, so progress
 * never goes backwards when an earlier machine has a bad moment; later waves
 * open one at a time, each once the wave before it is complete and its bake
 * and `pauseAfter` have passed. Empty waves are stepped over without a hold.
 * (Starting from the furthest started wave also means no hold ever guards
 * waves whose machines were all on the target already.)
 */
export function wavePosition(
  waves: readonly Wave[],
  target: string,
  now: EpochMillis,
  resumedAfterWave: number | undefined,
): WavePosition {
  const lastNonEmpty = waves.findLastIndex((wave) => wave.members.length > 0);
  let openWave = waves.findLastIndex((wave) =>
    wave.members.some((machine) => machine.desiredRevision === target),
  );
  if (openWave < 0) openWave = 0;
  for (;;) {
    const wave = waves[openWave];
    if (wave === undefined || !isWaveComplete(wave, target)) return { openWave };
    const isLast = openWave >= lastNonEmpty;
    const hold = wave.members.length > 0 ? holdAfterWave(wave, now, resumedAfterWave, isLast) : undefined;
    if (hold) return { openWave, hold };
    if (isLast) return { openWave };
    openWave++;
  }
}

/** The pause a wave hold puts on the pool, told so a person knows what it waits for and how to move it. */
export function pauseForHold(
  hold: WaveHold,
  waves: readonly Wave[],
  waveIndex: number,
  pool: string,
): RolloutPause {
  const wave = waves[waveIndex] as Wave;
  const next = waves.slice(waveIndex + 1).find((later) => later.members.length > 0);
  const nextLabel = next ? next.label : 'the next wave';
  switch (hold.reason) {
    case 'Baking':
      return {
        reason: 'Baking',
        until: hold.until,
        message: `${pool} baking ${wave.label} until ${formatTime(hold.until)} (bakeSeconds ${wave.spec.bakeSeconds ?? 0})`,
      };
    case 'PauseAfter':
      return {
        reason: 'PauseAfter',
        until: hold.until,
        message: `${pool} holding after ${wave.label} until ${formatTime(hold.until)} (pauseAfter ${String(wave.spec.pauseAfter)}s), then ${nextLabel} starts`,
      };
    case 'AwaitingResume':
      return {
        reason: 'AwaitingResume',
        message: `${pool} paused after ${wave.label} (pauseAfter: true); resume the rollout past ${wave.label} to start ${nextLabel}`,
      };
  }
}
