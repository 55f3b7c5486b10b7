import { isDoneAt, type EpochMillis, type MachineState } from './machine-state.ts';
import { matchesSelector } from './label-selector.ts';
import type { WaveSpec } from './rollout-spec.ts';

/** A wave with the machines it adds to the rollout, in rollout order. */
export interface Wave<M extends MachineState = MachineState> {
  /** Position in `rollout.waves`; the implicit last wave comes right after them. */
  index: number;
  /** For messages: `"canary" (waves[0])`, `waves[1]`, or `waves[2] (remaining machines)` for the implicit wave. */
  label: string;
  spec: WaveSpec;
  /** True for the wave the planner adds for machines no wave covers. */
  implicit: boolean;
  members: M[];
}

/**
 * Splits `ordered` (machines in rollout order) into waves. Counts and
 * percentages are cumulative: they grow the rolled-out set, in order, to that
 * size. A selector adds its matching machines. Whatever no wave covers forms a
 * last implicit wave, so every machine reaches the target. A wave can be empty
 * (e.g. a count no larger than the one before).
 */
export function resolveWaves<M extends MachineState>(
  ordered: readonly M[],
  specs: readonly WaveSpec[] = [],
): Wave<M>[] {
  const covered = new Set<string>();
  const waves: Wave<M>[] = specs.map((spec, index) => {
    const members = membersOf(spec, ordered, covered);
    for (const member of members) covered.add(member.name);
    const label = spec.name ? `"${spec.name}" (waves[${index}])` : `waves[${index}]`;
    return { index, label, spec, implicit: false, members };
  });
  // Without waves nothing is covered: no need to look up 10,000 names.
  const remaining =
    covered.size === 0 ? [...ordered] : ordered.filter((machine) => !covered.has(machine.name));
  if (specs.length === 0 || remaining.length > 0) {
    const label = `waves[${specs.length}] (${specs.length === 0 ? 'all machines' : 'remaining machines'})`;
    waves.push({ index: specs.length, label, spec: {}, implicit: true, members: remaining });
  }
  return waves;
}

function membersOf<M extends MachineState>(
  spec: WaveSpec,
  ordered: readonly M[],
  covered: ReadonlySet<string>,
): M[] {
  const uncovered = ordered.filter((machine) => !covered.has(machine.name));
  if (spec.selector) {
    const selector = spec.selector;
    return uncovered.filter((machine) => matchesSelector(machine.labels, selector));
  }
  const size =
    spec.count !== undefined
      ? spec.count
      : // Rounded up: a small percentage still makes a canary of one machine.
        Math.ceil((ordered.length * (spec.percent ?? 100)) / 100);
  return uncovered.slice(0, Math.max(0, size - covered.size));
}

/** Every machine of the wave is done at the target or has failed there (failures are judged by maxFailed). */
export function isWaveComplete(wave: Wave, target: string): boolean {
  return wave.members.every((machine) => isDoneAt(machine, target) || machine.failedRevision === target);
}

/** When the wave's last machine finished, or undefined when no member says. */
export function waveFinishedAt(wave: Wave): EpochMillis | undefined {
  let latest: EpochMillis | undefined;
  for (const { finishedAt } of wave.members) {
    if (finishedAt !== undefined && (latest === undefined || finishedAt > latest)) latest = finishedAt;
  }
  return latest;
}

export type WaveHold =
  | { reason: 'Baking'; until: EpochMillis }
  | { reason: 'PauseAfter'; until: EpochMillis }
  | { reason: 'AwaitingResume' };

/**
 * What holds the pool at the boundary after a complete `wave`, or undefined
 * when the next wave may start: first the bake, then `pauseAfter` (a person's
 * resume, or a number of seconds counted after the bake). `resumedAfterWave`
 * lifts the `pauseAfter` of that wave and every earlier one, never a bake.
 */
export function holdAfterWave(
  wave: Wave,
  now: EpochMillis,
  resumedAfterWave: number | undefined,
  isLastWave: boolean,
): WaveHold | undefined {
  const finishedAt = waveFinishedAt(wave);
  const bakeMillis = (wave.spec.bakeSeconds ?? 0) * 1000;
  if (finishedAt !== undefined && now < finishedAt + bakeMillis)
    return { reason: 'Baking', until: finishedAt + bakeMillis };
  const pauseAfter = wave.spec.pauseAfter;
  const resumed = resumedAfterWave !== undefined && resumedAfterWave >= wave.index;
  if (isLastWave || resumed || pauseAfter === undefined || pauseAfter === false) return undefined;
  if (pauseAfter === true) return { reason: 'AwaitingResume' };
  // Like the bake, a timed hold with no finish time to count from is over.
  if (finishedAt === undefined) return undefined;
  const until = finishedAt + bakeMillis + pauseAfter * 1000;
  return now < until ? { reason: 'PauseAfter', until } : undefined;
}
