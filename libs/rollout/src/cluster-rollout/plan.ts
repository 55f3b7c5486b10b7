/**
 * The ClusterRollout planner, pure: the rollout's spec, what is observed of
 * each selected Cluster and the time in; which clusters to start, the status
 * and when to look again out. Everything it reads comes from the API (the
 * Clusters' spec, status and the record the rollout keeps on each), so an
 * operator killed at any point plans the same after a restart.
 */
import type { EpochMillis } from '../machine-state.ts';
import { listDescribed, listNames, NAMES_IN_MESSAGES } from '../messages.ts';
import type { WaveSpec } from '../rollout-spec.ts';
import { resolveWaves, type Wave, type WaveMember } from '../waves.ts';

/**
 * Name of the wave that takes the clusters no wave of spec.waves covers (not a
 * DNS label, so never a wave's name); the ClusterRollout status shows it.
 */
export const REMAINING_WAVE_NAME = '(remaining)';

/** One wave of ClusterRollout.spec.waves, as the planner reads it: named, and paused after only by a person. */
export interface ClusterWaveSpec extends WaveSpec {
  name: string;
  /** Hold the rollout after this wave until a person resumes it. Ignored on the last wave. */
  pauseAfter?: boolean;
}

/** What the rollout wrote on a Cluster it started (@kok/api keeps it in an annotation, cluster-rollout-record.ts). */
export interface ClusterRecord {
  wave: string;
  /** The version the rollout told the cluster. */
  version: string;
  startedAt: EpochMillis;
  /** Set once the rollout saw the cluster fail at `version`. */
  failedAt?: EpochMillis;
  failure?: string;
}

/** A node component (by name) at a version: Cluster and ClusterRollout spec.nodePools.components. */
export interface NodeComponentVersion {
  name: string;
  version: string;
}

/** One selected Cluster as observed. */
export interface ClusterState {
  name: string;
  /** Wave selectors read them. */
  labels: Readonly<Record<string, string>>;
  /** spec.version. */
  version: string;
  /** When it became Available with every component at `version`; undefined while it is not. */
  availableSince?: EpochMillis;
  /** Why its upgrade to `version` failed (Degraded after its own rollback); undefined otherwise. */
  failure?: string;
  /** Why it does not move toward `version` though nothing failed (the operator holds it); undefined otherwise. */
  held?: string;
  /** What this rollout recorded on it; undefined when it never started it. */
  record?: ClusterRecord;
  /** spec.paused or the pause annotation: nothing upgrades it, so the rollout does not start it and names it while it waits. */
  paused?: boolean;
  /** spec.nodePools.components; undefined when unset. */
  nodePools?: readonly NodeComponentVersion[];
  /** When its NodePools were reported up to date with `nodePools` (condition NodePoolsUpToDate); undefined while not. */
  nodePoolsUpToDateSince?: EpochMillis;
}

export interface RolloutInput {
  version: string;
  /** The node components every cluster's NodePools move to after its control plane; undefined: control planes only. */
  nodePools?: readonly NodeComponentVersion[];
  waves: readonly ClusterWaveSpec[];
  /** Seconds a cluster must stay Available at the version before it counts as updated. */
  bakeSeconds: number;
  /** The rollout stops once more than this many clusters failed. */
  maxFailed: number;
  paused: boolean;
  /** A person resumed the rollout after this wave (and every earlier one) held it with pauseAfter. */
  resumedAfterWave?: number;
  clusters: readonly ClusterState[];
  now: EpochMillis;
}

export type ClusterPhase = 'Pending' | 'Upgrading' | 'Baking' | 'Updated' | 'Failed';
/** ClusterRollout status.waves[].state. */
export type WaveState = 'Pending' | 'Progressing' | 'Baking' | 'Succeeded' | 'Failed';
/** ClusterRollout status.phase. */
export type RolloutPhase = 'Pending' | 'Progressing' | 'Paused' | 'Succeeded' | 'Failed';

export interface WaveProgress {
  index: number;
  name: string;
  state: WaveState;
  clusters: number;
  updated: number;
  /** Told the version, not updated yet (upgrading or baking). */
  upgrading: number;
  failed: number;
  /** Not told the version yet. */
  pending: number;
  startedAt?: EpochMillis;
  finishedAt?: EpochMillis;
  /** Cluster names, by name; for the caller's events and logs, not for the status. */
  members: string[];
}

export interface Counts {
  clusters: number;
  updated: number;
  upgrading: number;
  failed: number;
  pending: number;
}

export type HoldReason = 'Paused' | 'PausedAfterWave' | 'FailureBudgetExceeded';

export interface RolloutPlan {
  phase: RolloutPhase;
  /** The first wave not finished and baked; undefined when all are. */
  currentWave?: number;
  waves: WaveProgress[];
  counts: Counts;
  /** Clusters to tell the version now, by wave then name, with the wave to record on each. */
  start: { cluster: string; wave: string }[];
  /** Failures seen for the first time: record them on the cluster so they outlive its next spec change. */
  newFailures: { cluster: string; wave: string; message: string }[];
  /** Every failed cluster, by name. */
  failed: { cluster: string; message: string }[];
  /** Why nothing new starts, when nothing may. */
  hold?: { reason: HoldReason; message: string };
  /** The rollout just reached the end of this pauseAfter wave: the caller pauses it (spec.paused). */
  pauseAfterWave?: number;
  /** For people: what it waits for, or why it stopped. */
  message: string;
  /** Look again then, even if nothing changes (a bake ends). */
  wakeAt?: EpochMillis;
}

/** Failed clusters named in messages; the rest are counted. */
export const NAMED_FAILURES = NAMES_IN_MESSAGES;
/** Each failure is quoted up to this many characters. */
const FAILURE_QUOTE = 300;

type PhaseInput = Pick<RolloutInput, 'version' | 'nodePools' | 'bakeSeconds' | 'now'>;

export function clusterPhase(c: ClusterState, input: PhaseInput): ClusterPhase {
  if (failureOf(c, input.version) !== undefined) return 'Failed';
  if (c.version !== input.version) return 'Pending';
  if (input.nodePools !== undefined && !sameComponents(c.nodePools, input.nodePools)) return 'Pending';
  const since = upgradedSince(c, input);
  if (since === undefined) return 'Upgrading';
  return input.now < since + input.bakeSeconds * 1000 ? 'Baking' : 'Updated';
}

/**
 * When the cluster counted as upgraded: its control plane Available at the version and, when the rollout
 * carries node-pool versions, its NodePools up to date with them; the later of the two. Undefined while not.
 */
export function upgradedSince(
  c: ClusterState,
  input: Pick<RolloutInput, 'nodePools'>,
): EpochMillis | undefined {
  if (c.availableSince === undefined) return undefined;
  if (input.nodePools === undefined) return c.availableSince;
  if (c.nodePoolsUpToDateSince === undefined) return undefined;
  return Math.max(c.availableSince, c.nodePoolsUpToDateSince);
}

/** The same components at the same versions, in any order. */
export function sameComponents(
  a: readonly NodeComponentVersion[] | undefined,
  b: readonly NodeComponentVersion[],
): boolean {
  if (a === undefined || a.length !== b.length) return false;
  const versions = new Map(a.map((c) => [c.name, c.version]));
  return b.every((c) => versions.get(c.name) === c.version);
}

/** Why the cluster failed at `version`: what it says now, else what the rollout recorded. */
function failureOf(c: ClusterState, version: string): string | undefined {
  if (c.version === version && c.failure !== undefined) return c.failure;
  if (c.record?.version === version && c.record.failedAt !== undefined) return c.record.failure ?? 'failed';
  return undefined;
}

export function planClusterRollout(input: RolloutInput): RolloutPlan {
  const { version, now } = input;
  // Clusters fill the waves in name order; one the rollout started stays in the wave recorded on it.
  const waves = resolveWaves(
    input.clusters
      .map((c): ClusterState & WaveMember => (c.record ? { ...c, pinnedWave: c.record.wave } : c))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    input.waves,
    { implicitWaveName: REMAINING_WAVE_NAME, noun: 'clusters' },
  );
  const phaseOf = new Map(input.clusters.map((c) => [c.name, clusterPhase(c, input)] as const));

  const failed = input.clusters
    .filter((c) => phaseOf.get(c.name) === 'Failed')
    .map((c) => ({ cluster: c.name, message: failureOf(c, version) ?? '' }))
    .sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
  const budgetExceeded = failed.length > input.maxFailed;
  const newFailures = waves.flatMap((w) =>
    w.members
      .filter(
        (c) =>
          phaseOf.get(c.name) === 'Failed' &&
          !(c.record?.version === version && c.record.failedAt !== undefined),
      )
      .map((c) => ({ cluster: c.name, wave: nameOf(w), message: failureOf(c, version) ?? '' })),
  );

  const progress = waves.map((w) => waveProgress(w, phaseOf, input));
  const start: RolloutPlan['start'] = [];
  let currentWave: number | undefined;
  let gate:
    { reason: 'InProgress' | 'Baking' | 'AwaitingResume'; wave: number; until?: EpochMillis } | undefined;
  let wakeAt: EpochMillis | undefined;
  const wake = (at: EpochMillis) => (wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at));
  let waitingOnPaused: string[] = [];
  let waitingOnHeld: { cluster: string; message: string }[] = [];
  for (const c of input.clusters) {
    const since = upgradedSince(c, input);
    if (phaseOf.get(c.name) === 'Baking' && since !== undefined) wake(since + input.bakeSeconds * 1000);
  }

  for (const [i, w] of waves.entries()) {
    const p = progress[i] as WaveProgress;
    if (gate) continue;
    const finished = p.pending === 0 && p.upgrading === 0;
    if (!finished) {
      currentWave = i;
      gate = { reason: 'InProgress', wave: i };
      if (!input.paused && !budgetExceeded)
        for (const c of w.members)
          if (phaseOf.get(c.name) === 'Pending' && c.paused !== true)
            start.push({ cluster: c.name, wave: nameOf(w) });
      waitingOnPaused = w.members
        .filter((c) => c.paused === true && ['Pending', 'Upgrading'].includes(phaseOf.get(c.name) ?? ''))
        .map((c) => c.name);
      // Started, and held by its operator: the wave waits on it, and a person must act (it is not a failure).
      waitingOnHeld = w.members
        .filter((c) => phaseOf.get(c.name) === 'Upgrading' && c.held !== undefined)
        .map((c) => ({ cluster: c.name, message: c.held ?? '' }));
      continue;
    }
    // An empty wave has nothing to bake.
    const bakedAt = (p.finishedAt ?? now) + (w.spec.bakeSeconds ?? 0) * 1000;
    if (p.finishedAt !== undefined && now < bakedAt) {
      currentWave = i;
      gate = { reason: 'Baking', wave: i, until: bakedAt };
      wake(bakedAt);
      p.state = p.failed > 0 ? 'Failed' : 'Baking';
      continue;
    }
    const isLast = i === waves.length - 1;
    if (w.spec.pauseAfter === true && !isLast && (input.resumedAfterWave ?? -1) < i) {
      currentWave = i;
      gate = { reason: 'AwaitingResume', wave: i };
    }
  }

  const counts: Counts = { clusters: 0, updated: 0, upgrading: 0, failed: 0, pending: 0 };
  for (const p of progress) {
    counts.clusters += p.clusters;
    counts.updated += p.updated;
    counts.upgrading += p.upgrading;
    counts.failed += p.failed;
    counts.pending += p.pending;
  }

  const failedNames = describeFailures(failed);
  let hold: RolloutPlan['hold'];
  let pauseAfterWave: number | undefined;
  if (budgetExceeded) {
    hold = {
      reason: 'FailureBudgetExceeded',
      message: `${failed.length} cluster${failed.length === 1 ? '' : 's'} failed at ${version} (maxFailed ${input.maxFailed}): ${failedNames}; no further cluster starts`,
    };
  } else if (input.paused && gate !== undefined) {
    hold = {
      reason: gate?.reason === 'AwaitingResume' ? 'PausedAfterWave' : 'Paused',
      message:
        gate?.reason === 'AwaitingResume'
          ? `paused after wave ${waveLabel(waves, gate.wave)} (pauseAfter): set spec.paused to false to continue`
          : 'spec.paused is true: no further cluster starts',
    };
  } else if (gate?.reason === 'AwaitingResume') {
    pauseAfterWave = gate.wave;
    hold = {
      reason: 'PausedAfterWave',
      message: `paused after wave ${waveLabel(waves, gate.wave)} (pauseAfter): set spec.paused to false to continue`,
    };
  }

  const complete = gate === undefined;
  const phase: RolloutPhase = budgetExceeded
    ? 'Failed'
    : hold
      ? 'Paused'
      : counts.clusters === 0
        ? 'Pending'
        : complete
          ? 'Succeeded'
          : 'Progressing';
  const withFailures =
    (failed.length > 0 ? `; ${failed.length} failed (maxFailed ${input.maxFailed}): ${failedNames}` : '') +
    (waitingOnPaused.length > 0
      ? `; waiting on ${listNames(waitingOnPaused, NAMED_FAILURES)} (paused: the Cluster does not upgrade until resumed)`
      : '') +
    (waitingOnHeld.length > 0 ? `; held by its operator: ${describeFailures(waitingOnHeld)}` : '');
  const message =
    hold?.message ??
    (counts.clusters === 0
      ? 'the clusterSelector selects no Cluster'
      : complete
        ? `${counts.updated} of ${counts.clusters} clusters at ${version}${withFailures}`
        : gate?.reason === 'Baking'
          ? `wave ${waveLabel(waves, gate.wave)} finished; baking until ${new Date(gate.until ?? now).toISOString()}${withFailures}`
          : `wave ${waveLabel(waves, gate?.wave ?? 0)}: ${counts.updated} of ${counts.clusters} clusters at ${version}${withFailures}`);

  return {
    phase,
    ...(currentWave === undefined ? {} : { currentWave }),
    waves: progress,
    counts,
    start,
    newFailures,
    failed,
    ...(hold ? { hold } : {}),
    ...(pauseAfterWave === undefined ? {} : { pauseAfterWave }),
    message,
    ...(wakeAt === undefined ? {} : { wakeAt }),
  };
}

function waveProgress(
  w: ClusterWave,
  phaseOf: ReadonlyMap<string, ClusterPhase>,
  input: RolloutInput,
): WaveProgress {
  const p: WaveProgress = {
    index: w.index,
    name: nameOf(w),
    state: 'Pending',
    clusters: w.members.length,
    updated: 0,
    upgrading: 0,
    failed: 0,
    pending: 0,
    members: w.members.map((c) => c.name),
  };
  let startedAt: EpochMillis | undefined;
  let finishedAt: EpochMillis | undefined;
  let baking = 0;
  for (const c of w.members) {
    const phase = phaseOf.get(c.name);
    if (c.record?.version === input.version && (startedAt === undefined || c.record.startedAt < startedAt))
      startedAt = c.record.startedAt;
    let doneAt: EpochMillis | undefined;
    if (phase === 'Updated') {
      p.updated++;
      doneAt = (upgradedSince(c, input) ?? input.now) + input.bakeSeconds * 1000;
    } else if (phase === 'Failed') {
      p.failed++;
      doneAt = c.record?.version === input.version ? (c.record.failedAt ?? input.now) : input.now;
    } else if (phase === 'Pending') p.pending++;
    else {
      p.upgrading++;
      if (phase === 'Baking') baking++;
    }
    if (doneAt !== undefined && (finishedAt === undefined || doneAt > finishedAt)) finishedAt = doneAt;
  }
  const finished = p.pending === 0 && p.upgrading === 0;
  p.state = finished
    ? p.failed > 0
      ? 'Failed'
      : 'Succeeded'
    : p.pending === p.clusters
      ? 'Pending'
      : p.pending === 0 && baking === p.upgrading
        ? 'Baking'
        : 'Progressing';
  if (startedAt !== undefined) p.startedAt = startedAt;
  if (finished && finishedAt !== undefined) p.finishedAt = finishedAt;
  return p;
}

type ClusterWave = Wave<ClusterState & WaveMember>;

/** Every wave is named: those of the spec by it, the implicit one REMAINING_WAVE_NAME. */
function nameOf(w: ClusterWave): string {
  return w.spec.name ?? REMAINING_WAVE_NAME;
}

function waveLabel(waves: readonly ClusterWave[], index: number): string {
  const w = waves[index];
  return w ? `${index} (${nameOf(w)})` : String(index);
}

/** `fleet-3 (why), fleet-7 (why) and 2 more`. */
export function describeFailures(failed: readonly { cluster: string; message: string }[]): string {
  return listDescribed(
    failed,
    ({ cluster, message }) =>
      message
        ? `${cluster} (${message.length > FAILURE_QUOTE ? `${message.slice(0, FAILURE_QUOTE)}…` : message})`
        : cluster,
    NAMED_FAILURES,
  );
}
