/**
 * Which wave each selected cluster belongs to. Pure and deterministic: the
 * same clusters and spec give the same waves after any restart, and a cluster
 * the rollout already started stays in the wave recorded on it even when the
 * selection grows or shrinks.
 */
import { REMAINING_WAVE_NAME } from '../cluster-rollout.ts';
import type { LabelSelector } from '../common-schemas.ts';
import { matchesSelector } from './label-selector.ts';

/** One wave of ClusterRollout.spec.waves, as the planner reads it. */
export interface RolloutWaveSpec {
  name: string;
  /** Grow the rolled-out set to this many clusters, counting earlier waves. */
  count?: number;
  /** Grow the rolled-out set to this share of the selected clusters, rounded up. */
  percent?: number;
  /** Add the clusters this selector matches that no earlier wave holds. */
  selector?: LabelSelector;
  /** Hold the rollout after this wave until a person resumes it. Ignored on the last wave. */
  pauseAfter?: boolean;
  /** Seconds to wait after the wave finished before the next one starts. */
  bakeSeconds?: number;
}

export interface WaveMember {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** The wave this rollout recorded on the cluster when it started it. */
  pinnedWave?: string;
}

export interface ResolvedWave<M extends WaveMember> {
  index: number;
  spec: RolloutWaveSpec;
  /** The last wave, for the clusters no wave of the spec covers. */
  implicit: boolean;
  /** Sorted by name. */
  members: M[];
}

const byName = (a: WaveMember, b: WaveMember): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Splits the selected clusters into waves. Counts and percentages are
 * cumulative, filled in name order; a selector adds what it matches. Clusters
 * pinned to a wave of the spec stay there and count towards its size. What no
 * wave takes forms a last implicit wave, present when it has members or the
 * spec has no waves.
 */
export function resolveWaves<M extends WaveMember>(
  clusters: readonly M[],
  specs: readonly RolloutWaveSpec[],
): ResolvedWave<M>[] {
  const sorted = [...clusters].sort(byName);
  const waveNames = new Set([...specs.map((s) => s.name), REMAINING_WAVE_NAME]);
  const pinnedTo = (c: M) =>
    c.pinnedWave !== undefined && waveNames.has(c.pinnedWave) ? c.pinnedWave : undefined;
  const free = sorted.filter((c) => pinnedTo(c) === undefined);
  const taken = new Set<string>();
  let covered = 0;
  const waves: ResolvedWave<M>[] = specs.map((spec, index) => {
    const pinned = sorted.filter((c) => pinnedTo(c) === spec.name);
    const open = free.filter((c) => !taken.has(c.name));
    let added: M[];
    if (spec.selector) {
      const selector = spec.selector;
      added = open.filter((c) => matchesSelector(c.labels, selector));
    } else {
      // Rounded up: a small percentage of a small fleet is still a canary of one.
      const size = spec.count ?? Math.ceil((sorted.length * (spec.percent ?? 100)) / 100);
      added = open.slice(0, Math.max(0, size - covered - pinned.length));
    }
    for (const c of added) taken.add(c.name);
    const members = [...pinned, ...added].sort(byName);
    covered += members.length;
    return { index, spec, implicit: false, members };
  });
  const rest = [
    ...sorted.filter((c) => pinnedTo(c) === REMAINING_WAVE_NAME),
    ...free.filter((c) => !taken.has(c.name)),
  ].sort(byName);
  if (specs.length === 0 || rest.length > 0)
    waves.push({ index: specs.length, spec: { name: REMAINING_WAVE_NAME }, implicit: true, members: rest });
  return waves;
}
