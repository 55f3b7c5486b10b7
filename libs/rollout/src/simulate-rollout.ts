import { occupiesBudget, type EpochMillis, type MachineState } from './machine-state.ts';
import { orderMachines } from './ordering.ts';
import { planRollout } from './plan-rollout.ts';
import type { RolloutInput, RolloutPause, RolloutPlan } from './rollout-plan.ts';
import { rolloutSpecProblems } from './rollout-spec.ts';
import { resolveWaves } from './waves.ts';

/** How long one machine takes, as the caller estimates it (e.g. from the pool's own past upgrades). */
export interface MachineDurations {
  /** Seconds from being told the target revision to running it healthy. */
  upgradeSeconds: number;
  /** Seconds a rollout drain takes, for machines that need one before they are told the target. */
  drainSeconds: number;
}

export interface SimulationInput extends Omit<RolloutInput, 'now'> {
  /** Simulated time starts here. */
  start: EpochMillis;
  /** The duration model: how long each machine takes. */
  durations: (machine: MachineState) => MachineDurations;
}

/** One moment at which the planner starts, finishes or holds something. */
export interface SimulatedStep {
  /** Seconds after the start. */
  atSeconds: number;
  /** Index of the wave being rolled out, or held after. */
  wave: number;
  /** Machines cordoned to be drained for the target. */
  cordon: string[];
  /** Machines told the target revision, in rollout order. */
  assign: string[];
  /** Machines whose rollout cordon is lifted. */
  uncordon: string[];
  /** Machines taking a place in the disruption budget once this step is applied. */
  inUse: number;
  maxUnavailable: number;
  /** The pool holds (a bake, a timed pauseAfter) or stops here. */
  pause?: RolloutPause;
}

export interface SimulatedWave {
  index: number;
  /** As the planner names it in messages, e.g. `"canary" (waves[0])`. */
  label: string;
  implicit: boolean;
  /** The wave's machines in rollout order. */
  members: string[];
  bakeSeconds: number;
  pauseAfter?: boolean | number;
  /** Seconds after the start when its first machine starts (is cordoned or told); absent when none does. */
  startsAtSeconds?: number;
  /** Seconds after the start when its last machine is healthy at the target; absent when that is not reached. */
  finishesAtSeconds?: number;
}

export type SimulationOutcome =
  /** Every machine runs the target healthy and the last bake is over. */
  | 'Complete'
  /** The planner stops the pool (spec.paused, pauseAfter: true, a spent failure budget, a rollback, an invalid spec). */
  | 'Stopped'
  /** Nothing more happens with the machines as they are (e.g. one stays unavailable and holds the budget). */
  | 'Stalled';

export interface RolloutSimulation {
  targetRevision: string;
  maxUnavailable: number;
  waves: SimulatedWave[];
  /** Only the moments at which something changes. */
  steps: SimulatedStep[];
  /**
   * Machines in the order they start: cordoned for the target, or told it when they need no drain. This
   * is the rollout order, wave by wave; machines are told the target in another order when some drain.
   */
  startOrder: string[];
  /** Machines in the order they are told the target revision. */
  assignmentOrder: string[];
  outcome: SimulationOutcome;
  /** Why the simulation ends before `Complete`: the planner's pause, or its last message when stalled. */
  stoppedBy?: RolloutPause;
  /** Seconds from the start to the outcome (for `Stopped`, to the stop). */
  durationSeconds: number;
}

/** Pauses the planner does not lift on its own: the simulation ends at them. */
const STOPPING: ReadonlySet<RolloutPause['reason']> = new Set([
  'Paused',
  'AwaitingResume',
  'FailureBudgetExceeded',
  'RolledBack',
  'InvalidSpec',
]);

/** What is to happen to a machine later in simulated time. */
interface Pending {
  drainedAt?: EpochMillis;
  healthyAt?: EpochMillis;
}

/**
 * Runs the real planner over simulated time: each step plans on the machines
 * as the previous steps left them, applies the plan the way the node-operator
 * does (cordon, drain, tell the revision, lift the cordon), and moves the clock
 * to the next thing that happens — a drain or an upgrade finishing after the
 * durations the model gives, a bake or a timed pause ending. It ends when the
 * rollout completes, the planner stops the pool (e.g. `pauseAfter: true`), or
 * nothing more can happen. Machines keep everything else as observed: one not
 * Ready stays so, one under remediation stays so. Pure.
 */
export function simulateRollout(input: SimulationInput): RolloutSimulation {
  const target = input.targetRevision;
  const machines = new Map(input.machines.map((machine) => [machine.name, { ...machine }]));
  const pending = new Map<string, Pending>();
  const durations = new Map(input.machines.map((machine) => [machine.name, input.durations(machine)]));
  const durationOf = (name: string): MachineDurations =>
    durations.get(name) ?? { upgradeSeconds: 0, drainSeconds: 0 };
  // Work already under way finishes after what is left of its duration.
  for (const machine of machines.values()) {
    const { upgradeSeconds, drainSeconds } = durationOf(machine.name);
    const work: Pending = {};
    if (isConvergingHealthy(machine))
      work.healthyAt = Math.max(input.start, (machine.startedAt ?? input.start) + upgradeSeconds * 1000);
    if (machine.cordonedByRollout && !machine.drained)
      work.drainedAt = Math.max(input.start, (machine.drainStartedAt ?? input.start) + drainSeconds * 1000);
    pending.set(machine.name, work);
  }

  const simulation: RolloutSimulation = {
    targetRevision: target,
    maxUnavailable: 0,
    waves: wavesOf(input),
    steps: [],
    startOrder: [],
    assignmentOrder: [],
    outcome: 'Stalled',
    durationSeconds: 0,
  };
  const seconds = (at: EpochMillis): number => (at - input.start) / 1000;
  let now = input.start;
  let lastPause: string | undefined;
  // A Set keeps insertion order: the start order. Within one plan, machines start in rollout order.
  const started = new Set<string>();
  const rank = new Map(
    orderMachines(input.machines, input.spec.order ?? []).map((machine, index) => [machine.name, index]),
  );
  // Each machine is cordoned, told, finished and uncordoned at most a few times; waves add holds.
  const maxSteps = 8 * machines.size + 4 * simulation.waves.length + 16;
  const end = (outcome: SimulationOutcome, stoppedBy?: RolloutPause): RolloutSimulation => {
    simulation.startOrder = [...started];
    return finish(simulation, outcome, seconds(now), machines, pending, input.start, stoppedBy);
  };
  for (let step = 0; step < maxSteps; step++) {
    finishDueWork(machines, pending, target, now);
    const plan = planRollout({ ...input, machines: [...machines.values()], now });
    simulation.maxUnavailable = plan.maxUnavailable;
    const changed = applyPlan(plan, machines, pending, durationOf, now);
    const told = plan.assign.filter((a) => a.revision === target).map((a) => a.machine);
    simulation.assignmentOrder.push(...told);
    const starting = [...plan.cordon, ...told].filter((name) => !started.has(name));
    for (const name of starting.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0))) started.add(name);
    const pauseKey = plan.pause ? `${plan.pause.reason}/${plan.pause.until ?? ''}` : undefined;
    if (changed || (pauseKey !== undefined && pauseKey !== lastPause))
      simulation.steps.push(stepOf(plan, machines, seconds(now)));
    lastPause = pauseKey;
    if (plan.complete) return end('Complete');
    if (plan.pause && STOPPING.has(plan.pause.reason)) return end('Stopped', plan.pause);
    if (changed) continue; // the operator plans again at once on what it just wrote
    const next = nextEvent(pending, plan.wakeAt, now);
    if (next === undefined)
      return end('Stalled', { reason: plan.pause?.reason ?? 'Paused', message: plan.message });
    now = next;
  }
  return end('Stalled', { reason: 'Paused', message: `the simulation gave up after ${maxSteps} steps` });
}

/** Told some revision it does not run yet and not failing: it gets there after its upgrade time. */
function isConvergingHealthy(machine: MachineState): boolean {
  return (
    machine.desiredRevision !== undefined &&
    machine.currentRevision !== machine.desiredRevision &&
    machine.failedRevision === undefined
  );
}

function finishDueWork(
  machines: Map<string, MachineState>,
  pending: Map<string, Pending>,
  target: string,
  now: EpochMillis,
): void {
  for (const [name, work] of pending) {
    const machine = machines.get(name) as MachineState;
    if (work.drainedAt !== undefined && work.drainedAt <= now) {
      machine.drained = true;
      delete work.drainedAt;
    }
    if (work.healthyAt !== undefined && work.healthyAt <= now) {
      machine.currentRevision = machine.desiredRevision ?? target;
      machine.finishedAt = work.healthyAt;
      delete machine.progressBlocker;
      delete work.healthyAt;
    }
  }
}

/** Applies the plan to the simulated machines as the node-operator would; true when anything changed. */
function applyPlan(
  plan: RolloutPlan,
  machines: Map<string, MachineState>,
  pending: Map<string, Pending>,
  durationOf: (name: string) => MachineDurations,
  now: EpochMillis,
): boolean {
  const work = (name: string): Pending => pending.get(name) as Pending;
  for (const name of plan.uncordon) {
    const machine = machines.get(name) as MachineState;
    machine.cordoned = false;
    machine.cordonedByRollout = false;
    machine.drained = false;
    delete machine.drainStartedAt;
  }
  for (const name of plan.cordon) {
    const machine = machines.get(name) as MachineState;
    machine.cordoned = true;
    machine.cordonedByRollout = true;
    machine.drained = false;
    machine.drainStartedAt = now;
    work(name).drainedAt = now + durationOf(name).drainSeconds * 1000;
  }
  for (const { machine: name, revision } of plan.assign) {
    const machine = machines.get(name) as MachineState;
    machine.desiredRevision = revision;
    machine.startedAt = now;
    delete machine.finishedAt;
    if (machine.currentRevision === revision) continue;
    work(name).healthyAt = now + durationOf(name).upgradeSeconds * 1000;
  }
  return plan.uncordon.length + plan.cordon.length + plan.assign.length > 0;
}

function nextEvent(
  pending: ReadonlyMap<string, Pending>,
  wakeAt: EpochMillis | undefined,
  now: EpochMillis,
): EpochMillis | undefined {
  let next = wakeAt !== undefined && wakeAt > now ? wakeAt : undefined;
  for (const work of pending.values())
    for (const at of [work.drainedAt, work.healthyAt])
      if (at !== undefined && (next === undefined || at < next)) next = Math.max(at, now);
  return next;
}

function stepOf(plan: RolloutPlan, machines: Map<string, MachineState>, atSeconds: number): SimulatedStep {
  const step: SimulatedStep = {
    atSeconds,
    wave: plan.currentWave,
    cordon: [...plan.cordon],
    assign: plan.assign.map((a) => a.machine),
    uncordon: [...plan.uncordon],
    inUse: [...machines.values()].filter(occupiesBudget).length,
    maxUnavailable: plan.maxUnavailable,
  };
  if (plan.pause) step.pause = plan.pause;
  return step;
}

function wavesOf(input: SimulationInput): SimulatedWave[] {
  // An invalid spec has no waves to speak of; the planner's InvalidSpec pause says why.
  if (rolloutSpecProblems(input.spec).length > 0) return [];
  const ordered = orderMachines(input.machines, input.spec.order ?? []);
  return resolveWaves(ordered, input.spec.waves).map((wave) => {
    const simulated: SimulatedWave = {
      index: wave.index,
      label: wave.label,
      implicit: wave.implicit,
      members: wave.members.map((member) => member.name),
      bakeSeconds: wave.spec.bakeSeconds ?? 0,
    };
    if (wave.spec.pauseAfter !== undefined && wave.spec.pauseAfter !== false)
      simulated.pauseAfter = wave.spec.pauseAfter;
    return simulated;
  });
}

function finish(
  simulation: RolloutSimulation,
  outcome: SimulationOutcome,
  atSeconds: number,
  machines: ReadonlyMap<string, MachineState>,
  pending: ReadonlyMap<string, Pending>,
  start: EpochMillis,
  stoppedBy?: RolloutPause,
): RolloutSimulation {
  simulation.outcome = outcome;
  simulation.durationSeconds = atSeconds;
  if (stoppedBy) simulation.stoppedBy = stoppedBy;
  const startedAt = new Map<string, number>();
  for (const step of simulation.steps)
    for (const name of [...step.cordon, ...step.assign])
      if (!startedAt.has(name)) startedAt.set(name, step.atSeconds);
  for (const wave of simulation.waves) {
    const starts = wave.members.map((name) => startedAt.get(name)).filter((at) => at !== undefined);
    if (starts.length > 0) wave.startsAtSeconds = Math.min(...starts);
    const finishes = wave.members.map((name) => {
      const machine = machines.get(name);
      const done =
        machine?.desiredRevision === simulation.targetRevision &&
        machine.currentRevision === simulation.targetRevision &&
        pending.get(name)?.healthyAt === undefined;
      return done ? Math.max(0, ((machine.finishedAt ?? start) - start) / 1000) : undefined;
    });
    if (wave.members.length > 0 && finishes.every((at) => at !== undefined))
      wave.finishesAtSeconds = Math.max(...finishes);
  }
  return simulation;
}
