import { DisruptionBudget, resolveMaxUnavailable } from './budget.ts';
import { isDoneAt, isHealthyAt, occupiesBudget, type MachineState } from './machine-state.ts';
import {
  describeFailure,
  describeUnavailability,
  listDescribed,
  listNames,
  machinesCount,
  NAMES_IN_MESSAGES,
} from './messages.ts';
import { orderMachines } from './ordering.ts';
import { applyDrainTimeout } from './drain-timeout.ts';
import { applyProgressDeadline } from './progress-deadline.ts';
import { budgetFullWait, holdWait, ownWait, waitsUnderStop, waveLabels } from './machine-waits.ts';
import { machinesToRollBack } from './rollback.ts';
import type { FailedMachine, RolloutInput, RolloutPause, RolloutPlan } from './rollout-plan.ts';
import { DEFAULT_MAX_FAILED, rolloutSpecProblems } from './rollout-spec.ts';
import { countMachines } from './status-counts.ts';
import type { WaitReason } from './wait-reasons.ts';
import { pauseForHold, wavePosition, type WavePosition } from './wave-position.ts';
import { resolveWaves, type Wave } from './waves.ts';

/**
 * Plans one step of a NodePool rollout: which machines get the target revision
 * now, which to cordon, drain and uncordon, whether the pool holds and why,
 * and whether to roll back. Level-based: call it on every change with fresh
 * observations and it carries on from wherever the world stands.
 *
 * It is a sliding window, not lock-step batches: a machine starts as soon as
 * the budget has room and its wave is open. Machines already unavailable,
 * updating or under remediation all hold places, and a new disruption starts
 * only while `unavailable + newly disrupted ≤ maxUnavailable`.
 *
 * In order of precedence: `spec.paused` freezes everything; a spent failure
 * budget rolls back (autoRollback) or stops the pool; otherwise the rollout
 * moves, held at wave boundaries by bakes and `pauseAfter`.
 */
export function planRollout(input: RolloutInput): RolloutPlan {
  const pool = `NodePool ${JSON.stringify(input.pool)}`;
  const problems = rolloutSpecProblems(input.spec);
  if (problems.length > 0) {
    const message = `${pool} cannot roll out: ${problems.join('; ')}`;
    return {
      ...emptyPlan(input, 0),
      counts: countMachines(input.machines, input.targetRevision),
      waveCount: 0,
      pause: { reason: 'InvalidSpec', message },
      waiting: waitsUnderStop(input.machines, input.targetRevision, { kind: 'InvalidSpec', problems }),
      message,
    };
  }

  const { spec, targetRevision: target } = input;
  // From here on a machine past its progress deadline is failed at the target, like a failing health check,
  // and so is one whose drain for the target has outlasted the drain timeout.
  const deadline = applyProgressDeadline(input.machines, target, spec.progressDeadlineSeconds, input.now);
  const drainTimeout = applyDrainTimeout(deadline.machines, target, spec.drainTimeoutSeconds, input.now);
  const machines = drainTimeout.machines;
  const counts = countMachines(machines, target);
  const maxUnavailable = resolveMaxUnavailable(spec.maxUnavailable, machines.length);
  const ordered = orderMachines(machines, spec.order ?? []);
  const waves = resolveWaves(ordered, spec.waves);
  const position = wavePosition(waves, target, input.now, input.resumedAfterWave);
  const failedAtTarget = ordered.filter((machine) => machine.failedRevision === target);
  const maxFailed = spec.maxFailed ?? DEFAULT_MAX_FAILED;
  const plan: RolloutPlan = {
    ...emptyPlan(input, maxUnavailable),
    counts,
    failed: failedAtTarget.map((machine) => failedMachine(machine, target)),
    currentWave: position.openWave,
    waveCount: waves.length,
  };
  const context: PlanContext = {
    input,
    plan,
    ordered,
    waves,
    position,
    pool,
    progress:
      `at ${waves[position.openWave]?.label ?? 'no wave'}, ${counts.updatedMachines}/${counts.machines} machines updated, ` +
      `${counts.unavailableMachines} unavailable (maxUnavailable ${maxUnavailable})`,
    failedAtTarget,
    drainTimedOut: drainTimeout.timedOut,
    failures:
      `${machinesCount(failedAtTarget.length)} failed at revision ${target} (maxFailed ${maxFailed}): ` +
      listDescribed(failedAtTarget, describeFailure),
  };

  const failureBudgetSpent = failedAtTarget.length > maxFailed;
  const canRollBack = input.lastGoodRevision !== undefined && input.lastGoodRevision !== target;
  const planned = spec.paused
    ? planPaused(context)
    : input.rolledBack || (failureBudgetSpent && spec.autoRollback && canRollBack)
      ? planRollback(context)
      : failureBudgetSpent
        ? planFailureStop(context)
        : planProgress(context);
  return wakeAtDeadline(wakeAtDeadline(planned, deadline.nextDeadline), drainTimeout.nextDeadline);
}

function failedMachine(machine: MachineState, target: string): FailedMachine {
  return {
    machine: machine.name,
    revision: target,
    ...(machine.failureReason === undefined ? {} : { reason: machine.failureReason }),
    ...(machine.failureMessage === undefined ? {} : { message: machine.failureMessage }),
  };
}

/** Look again when the next progress deadline or drain timeout passes, so a stuck machine fails on time. */
function wakeAtDeadline(plan: RolloutPlan, nextDeadline: number | undefined): RolloutPlan {
  if (nextDeadline !== undefined && (plan.wakeAt === undefined || nextDeadline < plan.wakeAt))
    plan.wakeAt = nextDeadline;
  return plan;
}

/** What every step of planning reads and writes. */
interface PlanContext {
  input: RolloutInput;
  /** Filled in by the step. */
  plan: RolloutPlan;
  /** The machines in rollout order. */
  ordered: readonly MachineState[];
  waves: readonly Wave[];
  position: WavePosition;
  /** `NodePool "workers"`, how every message starts. */
  pool: string;
  /** Where the rollout stands, for messages. */
  progress: string;
  failedAtTarget: readonly MachineState[];
  /** Machines failed because their drain for the target timed out, each as observed (healthy where it is). */
  drainTimedOut: ReadonlyMap<string, MachineState>;
  /** The failures at the target and the limit that judges them, for messages. */
  failures: string;
}

/** `spec.paused`: start nothing, roll nothing back; only let finished machines back into service. */
function planPaused({
  input,
  plan,
  ordered,
  waves,
  pool,
  progress,
  drainTimedOut,
}: PlanContext): RolloutPlan {
  releaseRolloutCordons(plan, ordered, () => false, drainTimedOut);
  // The caller paused the pool itself after a pauseAfter: true wave: the pool and its machines wait for a
  // resume past that wave, and say so rather than speak of a person's pause.
  const afterWave = input.pausedAfterWave;
  const awaiting =
    afterWave !== undefined && waves[afterWave] !== undefined
      ? holdWait({ reason: 'AwaitingResume' }, waves, afterWave)
      : undefined;
  if (awaiting?.kind === 'AwaitingResume') {
    plan.waiting = waitsUnderStop(ordered, plan.targetRevision, awaiting);
    return paused(plan, {
      reason: 'AwaitingResume',
      message:
        `${pool} paused after ${awaiting.wave} (pauseAfter: true): ${progress}; check that wave, ` +
        `then run kubectl kok nodepool resume ${input.pool} to start ${awaiting.nextWave}`,
    });
  }
  plan.waiting = waitsUnderStop(ordered, plan.targetRevision, { kind: 'Paused' });
  return paused(plan, {
    reason: 'Paused',
    message: `${pool} paused (spec.paused): ${progress}; set spec.paused to false to continue`,
  });
}

/** Send failed and unfinished machines back to the last good revision, now and on every later step. */
function planRollback({ input, plan, ordered, pool, failures, drainTimedOut }: PlanContext): RolloutPlan {
  const target = input.targetRevision;
  const lastGood = input.lastGoodRevision;
  plan.rolledBack = true;
  // A machine whose drain timed out was never told the target: giving its cordon back is all it needs.
  releaseRolloutCordons(plan, ordered, () => false, drainTimedOut);
  const cause = input.rolledBack ? 'was rolled back' : `rolled back: ${failures}`;
  // Every machine not healthy at the target waits for a new template, those it sends back too.
  const rolledBack: WaitReason = {
    kind: 'RolledBack',
    revision: target,
    ...(lastGood === undefined || lastGood === target ? {} : { toRevision: lastGood }),
  };
  plan.waiting = ordered
    .filter((machine) => !isDoneAt(machine, target))
    .map((machine) => ({ machine: machine.name, reason: rolledBack }));
  const fix = 'change the pool template to roll out a fixed revision';
  if (lastGood === undefined || lastGood === target) {
    return paused(plan, {
      reason: 'RolledBack',
      message: `${pool} revision ${target} ${cause}; there is no earlier good revision to return to, so machines stay as they are; ${fix}`,
    });
  }
  const reverting = machinesToRollBack(ordered, target);
  for (const machine of reverting) plan.assign.push({ machine: machine.name, revision: lastGood });
  if (reverting.length > 0) {
    plan.rollback = { fromRevision: target, toRevision: lastGood, machines: reverting.map((m) => m.name) };
  }
  return paused(plan, {
    reason: 'RolledBack',
    message: `${pool} revision ${target} ${cause}; failed and unfinished machines go back to revision ${lastGood}; ${fix}`,
  });
}

/** Too many failures and no rollback: stop, and say who failed, which limit decided it and what can be done. */
function planFailureStop({
  input,
  plan,
  ordered,
  pool,
  failures,
  failedAtTarget,
  drainTimedOut,
}: PlanContext): RolloutPlan {
  // A machine whose drain timed out stays cordoned and its drain goes on: given back, it would no longer
  // count as failed and the pool would start it again. Once its pods have left it is no longer failed.
  releaseRolloutCordons(plan, ordered, (machine) => drainTimedOut.has(machine.name), drainTimedOut);
  for (const machine of ordered) if (drainTimedOut.has(machine.name)) plan.drain.push(machine.name);
  plan.waiting = waitsUnderStop(ordered, input.targetRevision, {
    kind: 'FailureBudgetExceeded',
    revision: input.targetRevision,
    failed: failedAtTarget.slice(0, NAMES_IN_MESSAGES).map((machine) => machine.name),
    failedCount: failedAtTarget.length,
    maxFailed: input.spec.maxFailed ?? DEFAULT_MAX_FAILED,
  });
  const noRollback = input.spec.autoRollback
    ? '; autoRollback is on but there is no earlier good revision to return to'
    : '';
  return paused(plan, {
    reason: 'FailureBudgetExceeded',
    message: `${pool} paused: ${failures}${noRollback}; fix or remove the failed machines, raise maxFailed, or change the pool template`,
  });
}

/** The rollout moves: start machines in open waves while the budget has room, and finish those under way. */
function planProgress(context: PlanContext): RolloutPlan {
  const { input, plan, ordered, waves, position, pool } = context;
  const target = input.targetRevision;
  const isInOpenWave = openWaveMembership(waves, position.openWave, ordered.length);
  // Cordoned by the rollout but not yet told the target: it is being drained for the target.
  const isDrainingForTarget = (machine: MachineState): boolean =>
    machine.cordonedByRollout === true && machine.desiredRevision !== target && isInOpenWave(machine);
  releaseRolloutCordons(plan, ordered, isDrainingForTarget, context.drainTimedOut);

  const budget = new DisruptionBudget(plan.maxUnavailable, ordered);
  const starting: string[] = [];
  const waitingOn: string[] = [];
  let waitingForBudget = 0;
  const hold = position.hold ? holdWait(position.hold, waves, position.openWave) : undefined;
  let budgetFull: WaitReason | undefined;
  let labels: ReadonlyMap<MachineState, string> | undefined;
  const wait = (machine: MachineState, reason: WaitReason | undefined): void => {
    if (reason) plan.waiting.push({ machine: machine.name, reason });
  };
  for (const machine of ordered) {
    if (machine.desiredRevision === target) {
      if (!isDoneAt(machine, target)) wait(machine, ownWait(machine, target));
      continue;
    }
    // Failed before it was told the target (its drain timed out): that is what holds it.
    const failedHere = machine.failedRevision === target ? ownWait(machine, target) : undefined;
    if (!isInOpenWave(machine)) {
      labels ??= waveLabels(waves);
      wait(
        machine,
        failedHere ??
          hold ?? {
            kind: 'WaitingForWave',
            wave: labels.get(machine) ?? 'a later wave',
            currentWave: waves[position.openWave]?.label ?? 'no wave',
          },
      );
      continue;
    }
    if (machine.underRemediation) {
      waitingOn.push(`${machine.name} (under remediation)`);
      wait(machine, { kind: 'UnderRemediation' });
    } else if (isDrainingForTarget(machine)) {
      if (machine.drained || !machine.needsDisruption)
        plan.assign.push({ machine: machine.name, revision: target });
      else plan.drain.push(machine.name);
      wait(machine, failedHere);
    } else if (machine.cordoned) {
      waitingOn.push(`${machine.name} (cordoned outside the rollout)`);
      wait(machine, { kind: 'CordonedOutsideRollout' });
    } else if (hold) {
      // Held at a wave boundary: nothing new starts, not even a newcomer to an open wave.
      wait(machine, hold);
    } else if (!budget.admit(machine.name)) {
      waitingForBudget++;
      budgetFull ??= budgetFullWait(budget.holders, plan.maxUnavailable);
      wait(machine, budgetFull);
    } else {
      starting.push(machine.name);
      if (machine.needsDisruption) {
        plan.cordon.push(machine.name);
        plan.drain.push(machine.name);
      } else {
        plan.assign.push({ machine: machine.name, revision: target });
      }
    }
  }

  const everyMachineDone = ordered.every((machine) => isDoneAt(machine, target));
  const allThere = `${pool} revision ${target} runs on all ${machinesCount(ordered.length)}`;
  if (position.hold) {
    const pause = pauseForHold(position.hold, waves, position.openWave, pool);
    if (everyMachineDone) pause.message = `${allThere}; ${pause.message}`;
    plan.wakeAt = pause.until;
    return paused(plan, pause);
  }
  if (everyMachineDone) {
    plan.complete = true;
    plan.message = allThere;
    return plan;
  }

  const notes: string[] = [];
  if (starting.length > 0) notes.push(`starting ${listNames(starting)}`);
  if (context.failedAtTarget.length > 0) notes.push(`${context.failures}, within the failure budget`);
  if (waitingForBudget > 0) {
    const holders = ordered.filter(occupiesBudget);
    const takenBy = holders.length > 0 ? `, taken by ${listDescribed(holders, describeUnavailability)}` : '';
    notes.push(
      `${machinesCount(waitingForBudget)} waiting for room in maxUnavailable ${plan.maxUnavailable}${takenBy}`,
    );
  }
  if (waitingOn.length > 0) notes.push(`waiting on ${listNames(waitingOn)}`);
  plan.message = [`${pool} rolling out revision ${target}: ${context.progress}`, ...notes].join('; ');
  return plan;
}

/**
 * Whether a machine of the pool is in a wave that may start. The waves' members
 * are the pool's machine objects, so membership is by identity; and when every
 * machine is in an open wave (no waves, or the last one open), nothing is looked up.
 */
function openWaveMembership(
  waves: readonly Wave[],
  openWave: number,
  machineCount: number,
): (machine: MachineState) => boolean {
  const open = waves.slice(0, openWave + 1);
  if (open.reduce((sum, wave) => sum + wave.members.length, 0) === machineCount) return () => true;
  const members = new Set<MachineState>();
  for (const wave of open) for (const member of wave.members) members.add(member);
  return (machine) => members.has(machine);
}

/**
 * Uncordons machines the rollout cordoned once they are healthy at whatever
 * they were told, except those still draining for the target. While the pool
 * is stopped, that gives back machines cordoned for a start that will not come.
 */
function releaseRolloutCordons(
  plan: RolloutPlan,
  ordered: readonly MachineState[],
  isDrainingForTarget: (machine: MachineState) => boolean,
  drainTimedOut: ReadonlyMap<string, MachineState>,
): void {
  for (const machine of ordered) {
    if (!machine.cordonedByRollout || isDrainingForTarget(machine)) continue;
    // Only its drain failed: judge its health as observed.
    const observed = drainTimedOut.get(machine.name) ?? machine;
    if (isHealthyAt(observed, observed.desiredRevision ?? observed.currentRevision)) {
      plan.uncordon.push(machine.name);
    }
  }
}

function paused(plan: RolloutPlan, pause: RolloutPause): RolloutPlan {
  plan.pause = pause;
  plan.message = pause.message;
  return plan;
}

function emptyPlan(input: RolloutInput, maxUnavailable: number): Omit<RolloutPlan, 'counts' | 'waveCount'> {
  return {
    targetRevision: input.targetRevision,
    failed: [],
    waiting: [],
    assign: [],
    cordon: [],
    drain: [],
    uncordon: [],
    rolledBack: input.rolledBack === true,
    complete: false,
    currentWave: 0,
    maxUnavailable,
    message: '',
  };
}
