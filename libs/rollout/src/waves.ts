import { isDoneAt, type EpochMillis, type MachineState } from './machine-state.ts';
import { matchesSelector } from './label-selector.ts';
import type { WaveSpec } from './rollout-spec.ts';

/**
 * What wave resolution reads of a member: a NodePool's machine (a MachineState
 * is one) or a ClusterRollout's cluster.
 */
export interface WaveMember {
  name: string;
  /** Wave selectors read them. */
  labels: Readonly<Record<string, string>>;
  /**
   * The name of the wave the rollout already recorded the member in: it stays there whatever the
   * selection does since. Only ClusterRollouts record it; a name no wave has is ignored.
   */
  pinnedWave?: string;
}

/** A wave with the members it adds to the rollout, in rollout order. */
export interface Wave<M extends WaveMember = MachineState> {
  /** Position in `rollout.waves`; the implicit last wave comes right after them. */
  index: number;
  /** For messages: `"canary" (waves[0])`, `waves[1]`, or `waves[2] (remaining machines)` for the implicit wave. */
  label: string;
  spec: WaveSpec;
  /** True for the wave the planner adds for members no wave covers. */
  implicit: boolean;
  members: M[];
}

export interface WaveOptions {
  /** The implicit wave's `spec.name`, so members pinned to it stay there. Default: it has none. */
  implicitWaveName?: string;
  /** What the members are, for the implicit wave's label. Default `machines`. */
  noun?: string;
}

/**
 * Splits `ordered` (members in rollout order) into waves. Counts and
 * percentages are cumulative: they grow the rolled-out set, in order, to that
 * size. A selector adds its matching members. Members pinned to a wave stay in
 * it and count towards its size. Whatever no wave covers forms a last implicit
 * wave, so every member reaches the target. A wave can be empty (e.g. a count
 * no larger than the one before). Each wave lists its members in `ordered`'s
 * order.
 */
export function resolveWaves<M extends WaveMember>(
  ordered: readonly M[],
  specs: readonly WaveSpec[] = [],
  options: WaveOptions = {},
): Wave<M>[] {
  const pinnedTo = pinning(ordered, specs, options.implicitWaveName);
  const free = pinnedTo ? ordered.filter((member) => pinnedTo(member) === undefined) : ordered;
  const covered = new Set<string>();
  let coveredCount = 0;
  const waves: Wave<M>[] = specs.map((spec, index) => {
    const pinned =
      pinnedTo && spec.name !== undefined ? ordered.filter((m) => pinnedTo(m) === spec.name) : [];
    const added = membersOf(spec, free, ordered.length, covered, coveredCount + pinned.length);
    for (const member of added) covered.add(member.name);
    const members = pinned.length === 0 ? added : inOrder(ordered, [...pinned, ...added]);
    coveredCount += members.length;
    const label = spec.name ? `"${spec.name}" (waves[${index}])` : `waves[${index}]`;
    return { index, label, spec, implicit: false, members };
  });
  // Without waves nothing is covered: no need to look up 10,000 names.
  const remaining = pinnedTo
    ? ordered.filter((member) => {
        const pin = pinnedTo(member);
        return pin === undefined ? !covered.has(member.name) : pin === options.implicitWaveName;
      })
    : covered.size === 0
      ? [...ordered]
      : ordered.filter((member) => !covered.has(member.name));
  if (specs.length === 0 || remaining.length > 0) {
    const noun = options.noun ?? 'machines';
    const label = `waves[${specs.length}] (${specs.length === 0 ? 'all' : 'remaining'} ${noun})`;
    const spec: WaveSpec = options.implicitWaveName === undefined ? {} : { name: options.implicitWaveName };
    waves.push({ index: specs.length, label, spec, implicit: true, members: remaining });
  }
  return waves;
}

/** Which wave each member is pinned to, or undefined when none is (the NodePool case: then no lookups). */
function pinning<M extends WaveMember>(
  members: readonly M[],
  specs: readonly WaveSpec[],
  implicitWaveName: string | undefined,
): ((member: M) => string | undefined) | undefined {
  if (!members.some((member) => member.pinnedWave !== undefined)) return undefined;
  const names = new Set(specs.flatMap((spec) => (spec.name === undefined ? [] : [spec.name])));
  if (implicitWaveName !== undefined) names.add(implicitWaveName);
  return (member) =>
    member.pinnedWave !== undefined && names.has(member.pinnedWave) ? member.pinnedWave : undefined;
}

/** The members no earlier wave holds that `spec` adds, `taken` of them already counted towards its size. */
function membersOf<M extends WaveMember>(
  spec: WaveSpec,
  free: readonly M[],
  total: number,
  covered: ReadonlySet<string>,
  taken: number,
): M[] {
  const uncovered = covered.size === 0 ? free : free.filter((member) => !covered.has(member.name));
  if (spec.selector) {
    const selector = spec.selector;
    return uncovered.filter((member) => matchesSelector(member.labels, selector));
  }
  const size =
    spec.count !== undefined
      ? spec.count
      : // Rounded up: a small percentage still makes a canary of one member.
        Math.ceil((total * (spec.percent ?? 100)) / 100);
  return uncovered.slice(0, Math.max(0, size - taken));
}

/** `subset` in the order of `ordered`. */
function inOrder<M extends WaveMember>(ordered: readonly M[], subset: readonly M[]): M[] {
  const names = new Set(subset.map((member) => member.name));
  return ordered.filter((member) => names.has(member.name));
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
