import { DisruptionBudget, resolveMaxUnavailable } from './budget.ts';
import {
  isDoneAt,
  isHealthyAt,
  isUnavailable,
  occupiesBudget,
  type EpochMillis,
  type MachineState,
} from './machine-state.ts';
import { describeFailure, describeUnavailability, formatTime, listNames, machinesCount } from './messages.ts';
import { orderMachines } from './ordering.ts';
import { DEFAULT_MAX_FAILED, rolloutSpecProblems, type RolloutSpec } from './rollout-spec.ts';
import { holdAfterWave, isWaveComplete, resolveWaves, type Wave, type WaveHold } from './waves.ts';

/** Everything the planner looks at: observed state and the time, nothing else. */
export interface RolloutInput {
  /** The NodePool's name, for messages. */
  pool: string;
  spec: RolloutSpec;
  /** The revision being rolled out (`status.updateRevision`). */
  targetRevision: string;
  /** The last revision that was healthy on the whole pool (`status.currentRevision`); rollbacks go there. */
  lastGoodRevision?: string;
  machines: readonly MachineState[];
  now: EpochMillis;
  /**
   * The highest wave index a person has resumed the rollout past: the `pauseAfter` of that wave and
   * of every earlier one no longer holds the pool. The caller keeps it per target revision and resets
   * it when the target changes. Default: none.
   */
  resumedAfterWave?: number;
  /**
   * A previous plan rolled `targetRevision` back (the caller records it, e.g. condition RolledBack
   * naming the revision). Keeps the pool from rolling the failed revision out again once the reverted
   * machines heal; a new target revision clears it. Default false.
   */
  rolledBack?: boolean;
}

/** Write `revision` into this Machine's `spec.revision`. */
export interface RevisionAssignment {
  machine: string;
  revision: string;
}

export type PauseReason =
  /** `spec.paused` is set. */
  | 'Paused'
  /** A wave is complete and must stay healthy a while before the next starts. */
  | 'Baking'
  /** A wave with `pauseAfter: <seconds>` is complete; the next starts on its own when the time is up. */
  | 'PauseAfter'
  /** A wave with `pauseAfter: true` is complete; a person must resume the rollout. */
  | 'AwaitingResume'
  /** More machines failed at the target revision than `maxFailed` allows, and no rollback is possible or wanted. */
  | 'FailureBudgetExceeded'
  /** The target revision failed and was rolled back. */
  | 'RolledBack'
  /** The rollout spec cannot be acted on. */
  | 'InvalidSpec';

/** The pool starts no new machine, and why. */
export interface RolloutPause {
  reason: PauseReason;
  /** What happened, to which machines, what limit decided it, and what a person can do. */
  message: string;
  /** When a timed hold ends. */
  until?: EpochMillis;
}

export interface RolloutRollback {
  fromRevision: string;
  toRevision: string;
  /** Machines sent back to `toRevision` by this plan. */
  machines: string[];
}

/** The figures for NodePool status; counts only, so status does not grow with the fleet. */
export interface RolloutCounts {
  machines: number;
  /** Told the target revision and running it. */
  updatedMachines: number;
  /** Node Ready and agent ready. */
  readyMachines: number;
  /** Unavailable in the design's sense: NotReady, missing, cordoned, failed or under remediation. */
  unavailableMachines: number;
  /** The agent reports a failure, at any revision. */
  failedMachines: number;
}

/** What to do now. Data only: print it, diff it, apply it with idempotent patches. */
export interface RolloutPlan {
  targetRevision: string;
  /** Revisions to write, in rollout order. */
  assign: RevisionAssignment[];
  /** Nodes to cordon, marking the cordon as the rollout's. */
  cordon: string[];
  /** Nodes whose pods to evict (PDB-aware); already cordoned or in `cordon`. */
  drain: string[];
  /** Nodes whose rollout cordon to lift. */
  uncordon: string[];
  /** Present when no new machine may start now. */
  pause?: RolloutPause;
  /** Present when this plan sends machines back to the last good revision. */
  rollback?: RolloutRollback;
  /** The target revision is rolled back; record it and pass `rolledBack` until the target changes. */
  rolledBack: boolean;
  /** Every machine runs the target healthy and the last wave has baked: it is the new last good revision. */
  complete: boolean;
  /** Index of the wave being rolled out, or held after (`status.currentWave`). */
  currentWave: number;
  /** How many waves the rollout has, counting the implicit last one. */
  waveCount: number;
  /** `maxUnavailable` resolved for this pool's size. */
  maxUnavailable: number;
  counts: RolloutCounts;
  /** One line on where the rollout stands, for Events and `kubectl describe`. */
  message: string;
  /** Look again at this time even if nothing changes (end of a bake or a timed pause). */
  wakeAt?: EpochMillis;
}

/**
 * Plans one step of a NodePool rollout: which machines get the target revision
 * now, which to cordon, drain and uncordon, whether the pool holds and why,
 * and whether to roll back. Level-based: call it on every change with fresh
 * observations and it continues where the world stands.
 *
 * It is a sliding window: a machine starts as soon as the budget has room,
 * never waiting for a whole batch. A machine starts only while its wave is
 * open, and no machine already unavailable, updating or under remediation
 * leaves room: `unavailable + newly disrupted ≤ maxUnavailable`.
 */
export function planRollout(input: RolloutInput): RolloutPlan {
  const { spec, targetRevision: target, now } = input;
  const counts = countMachines(input.machines, target);
  const problems = rolloutSpecProblems(spec);
  if (problems.length > 0) return invalidSpecPlan(input, counts, problems);

  const maxUnavailable = resolveMaxUnavailable(spec.maxUnavailable, input.machines.length);
  const ordered = orderMachines(input.machines, spec.order ?? []);
  const waves = resolveWaves(ordered, spec.waves);
  const waveOf = new Map(
    waves.flatMap((wave) => wave.members.map((machine) => [machine.name, wave.index] as const)),
  );
  const position = wavePosition(waves, target, now, input.resumedAfterWave);
  const failedAtTarget = ordered.filter((machine) => machine.failedRevision === target);
  const maxFailed = spec.maxFailed ?? DEFAULT_MAX_FAILED;
  const failureBudgetSpent = failedAtTarget.length > maxFailed;
  const canRollBack = input.lastGoodRevision !== undefined && input.lastGoodRevision !== target;

  const plan: RolloutPlan = {
    targetRevision: target,
    assign: [],
    cordon: [],
    drain: [],
    uncordon: [],
    rolledBack: input.rolledBack === true,
    complete: false,
    currentWave: position.openWave,
    waveCount: waves.length,
    maxUnavailable,
    counts,
    message: '',
  };
  const pool = `NodePool ${JSON.stringify(input.pool)}`;
  const progress = describeProgress(plan, waves[position.openWave]?.label ?? '');
  const failures = `${machinesCount(failedAtTarget.length)} failed at revision ${target} (maxFailed ${maxFailed}): ${listNames(failedAtTarget.map(describeFailure))}`;

  if (spec.paused) {
    releaseRolloutCordons(plan, ordered, () => false);
    return paused(plan, {
      reason: 'Paused',
      message: `${pool} paused (spec.paused): ${progress}; set spec.paused to false to continue`,
    });
  }

  if (input.rolledBack || (failureBudgetSpent && spec.autoRollback && canRollBack)) {
    plan.rolledBack = true;
    releaseRolloutCordons(plan, ordered, () => false);
    const lastGood = input.lastGoodRevision;
    const cause = input.rolledBack ? 'was rolled back' : `rolled back: ${failures}`;
    if (lastGood === undefined || lastGood === target) {
      return paused(plan, {
        reason: 'RolledBack',
        message: `${pool} revision ${target} ${cause}; no earlier good revision to return to, so affected machines stay as they are; change the pool template to roll out a fixed revision`,
      });
    }
    const reverting = ordered.filter(
      (machine) =>
        machine.desiredRevision === target &&
        !isHealthyAt(machine, target) &&
        machine.underRemediation !== true,
    );
    for (const machine of reverting) plan.assign.push({ machine: machine.name, revision: lastGood });
    if (reverting.length > 0) {
      plan.rollback = {
        fromRevision: target,
        toRevision: lastGood,
        machines: reverting.map((machine) => machine.name),
      };
    }
    return paused(plan, {
      reason: 'RolledBack',
      message: `${pool} revision ${target} ${cause}; failed and unfinished machines go back to revision ${lastGood}; change the pool template to roll out a fixed revision`,
    });
  }

  if (failureBudgetSpent) {
    releaseRolloutCordons(plan, ordered, () => false);
    const noRollback = spec.autoRollback
      ? '; autoRollback is on but there is no earlier good revision to return to'
      : '';
    return paused(plan, {
      reason: 'FailureBudgetExceeded',
      message: `${pool} paused: ${failures}${noRollback}; fix or remove the failed machines, raise maxFailed, or change the pool template`,
    });
  }

  const isOpen = (machine: MachineState): boolean =>
    (waveOf.get(machine.name) ?? Infinity) <= position.openWave;
  // A machine the rollout cordoned but has not yet handed the target is draining for it while its wave is open.
  const isDrainingForTarget = (machine: MachineState): boolean =>
    machine.cordonedByRollout === true && machine.desiredRevision !== target && isOpen(machine);
  releaseRolloutCordons(plan, ordered, isDrainingForTarget);

  const budget = new DisruptionBudget(maxUnavailable, ordered);
  const waitingOn: string[] = [];
  let waitingForBudget = 0;
  for (const machine of ordered) {
    if (!isOpen(machine) || machine.desiredRevision === target) continue;
    if (machine.underRemediation) {
      waitingOn.push(`${machine.name} (under remediation)`);
    } else if (machine.cordonedByRollout) {
      if (machine.drained || !machine.needsDisruption)
        plan.assign.push({ machine: machine.name, revision: target });
      else plan.drain.push(machine.name);
    } else if (machine.cordoned) {
      waitingOn.push(`${machine.name} (cordoned outside the rollout)`);
    } else if (position.hold) {
      // Held at a wave boundary: nothing new starts, not even a newcomer to an open wave.
      continue;
    } else if (!budget.admit(machine.name)) {
      waitingForBudget++;
    } else if (machine.needsDisruption) {
      plan.cordon.push(machine.name);
      plan.drain.push(machine.name);
    } else {
      plan.assign.push({ machine: machine.name, revision: target });
    }
  }

  const everyMachineDone = ordered.every((machine) => isDoneAt(machine, target));
  if (position.hold) {
    const hold = describeHold(position.hold, waves, position.openWave, pool);
    if (everyMachineDone && position.hold.reason === 'Baking') {
      hold.message = `${pool} revision ${target} runs on all ${machinesCount(ordered.length)}; ${hold.message}`;
    }
    plan.wakeAt = hold.until;
    return paused(plan, hold);
  }
  if (everyMachineDone) {
    plan.complete = true;
    plan.message = `${pool} revision ${target} runs on all ${machinesCount(ordered.length)}`;
    return plan;
  }

  const notes: string[] = [];
  if (failedAtTarget.length > 0) notes.push(`${failures}, within the failure budget`);
  if (waitingForBudget > 0) {
    const occupying = ordered.filter((machine) => occupiesBudget(machine)).map(describeUnavailability);
    notes.push(
      `${machinesCount(waitingForBudget)} waiting for room in maxUnavailable ${maxUnavailable}` +
        (occupying.length > 0 ? `, taken by ${listNames(occupying)}` : ''),
    );
  }
  if (waitingOn.length > 0) notes.push(`waiting on ${listNames(waitingOn)}`);
  plan.message = [`${pool} rolling out revision ${target}: ${progress}`, ...notes].join('; ');
  return plan;
}

function paused(plan: RolloutPlan, pause: RolloutPause): RolloutPlan {
  plan.pause = pause;
  plan.message = pause.message;
  return plan;
}

/**
 * Uncordons machines the rollout cordoned once they are healthy at whatever
 * they were told, except those still draining for the target. While the pool
 * holds, that also gives back machines cordoned for a start that never came.
 */
function releaseRolloutCordons(
  plan: RolloutPlan,
  ordered: readonly MachineState[],
  isDrainingForTarget: (machine: MachineState) => boolean,
): void {
  for (const machine of ordered) {
    if (!machine.cordonedByRollout || isDrainingForTarget(machine)) continue;
    if (isHealthyAt(machine, machine.desiredRevision ?? machine.currentRevision))
      plan.uncordon.push(machine.name);
  }
}

interface WavePosition {
  /** The last wave whose machines may start now. */
  openWave: number;
  /** What keeps the wave after `openWave` from opening (or, on the last wave, the rollout from completing). */
  hold?: WaveHold;
}

/**
 * The furthest wave that has machines on the target stays open, so progress
 * never goes backwards; later waves open one by one as the waves before them
 * complete and their holds pass.
 */
function wavePosition(
  waves: readonly Wave[],
  target: string,
  now: EpochMillis,
  resumedAfterWave: number | undefined,
): WavePosition {
  const started = waves.filter((wave) => wave.members.some((machine) => machine.desiredRevision === target));
  const lastNonEmpty = waves.findLastIndex((wave) => wave.members.length > 0);
  let openWave = started.at(-1)?.index ?? 0;
  for (;;) {
    const wave = waves[openWave];
    if (wave === undefined || !isWaveComplete(wave, target)) return { openWave };
    const isLast = openWave >= lastNonEmpty;
    const hold = wave.members.length > 0 ? holdAfterWave(wave, now, resumedAfterWave, isLast) : undefined;
    if (hold || isLast) return hold ? { openWave, hold } : { openWave };
    openWave++;
  }
}

function describeHold(hold: WaveHold, waves: readonly Wave[], waveIndex: number, pool: string): RolloutPause {
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

function invalidSpecPlan(
  input: RolloutInput,
  counts: RolloutCounts,
  problems: readonly string[],
): RolloutPlan {
  const message = `NodePool ${JSON.stringify(input.pool)} cannot roll out: ${problems.join('; ')}`;
  return {
    targetRevision: input.targetRevision,
    assign: [],
    cordon: [],
    drain: [],
    uncordon: [],
    pause: { reason: 'InvalidSpec', message },
    rolledBack: false,
    complete: false,
    currentWave: 0,
    waveCount: 0,
    maxUnavailable: 0,
    counts,
    message,
  };
}

function describeProgress(plan: RolloutPlan, waveLabel: string): string {
  const { counts } = plan;
  return (
    `at ${waveLabel}, ${counts.updatedMachines}/${counts.machines} machines updated, ` +
    `${counts.unavailableMachines} unavailable (maxUnavailable ${plan.maxUnavailable})`
  );
}

export function countMachines(machines: readonly MachineState[], target: string): RolloutCounts {
  let updatedMachines = 0;
  let readyMachines = 0;
  let unavailableMachines = 0;
  let failedMachines = 0;
  for (const machine of machines) {
    if (machine.desiredRevision === target && machine.currentRevision === target) updatedMachines++;
    if (machine.ready) readyMachines++;
    if (isUnavailable(machine)) unavailableMachines++;
    if (machine.failedRevision !== undefined) failedMachines++;
  }
  return { machines: machines.length, updatedMachines, readyMachines, unavailableMachines, failedMachines };
}
