/**
 * `kubectl kok nodepool plan`: what applying a NodePool spec would do, worked
 * out with the node-operator's own planner (libs/rollout planRollout, stepped
 * over simulated time by simulateRollout) on the live machines: the revision,
 * what each changing machine undergoes under the disruption policy, the waves
 * with their members, the budget at each step, bakes and pauses, and how long
 * it should take by the pool's own past upgrades. Pure: objects in, data out.
 */
import { heaviestAction, machineChanges, templateRevision } from '@kok/api';
import type { DisruptionAction, Machine, MachineChange, NodePool } from '@kok/api';
import { simulateRollout } from '@kok/rollout';
import type {
  MachineState,
  RolloutPause,
  RolloutSpec,
  SimulatedStep,
  SimulatedWave,
  SimulationOutcome,
  WaveSpec,
} from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';
import { machineStateOf } from './pool-machine-states.ts';
import { isPoolMember } from './pool-waves.ts';
import { durationEstimate } from './upgrade-durations.ts';

/** The node-operator's defaults for what the planner gets unset (its rollout-input.ts). */
const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;
/** On a NodePool: `<revision>/<wave>`, the node-operator paused the pool after that wave (pauseAfter: true). */
const PAUSED_AFTER_WAVE_ANNOTATION = 'nodes.kok.dev/paused-after-wave';

/** One machine the plan moves to the new revision. */
export interface MachinePlan {
  machine: string;
  /** Index of its wave. */
  wave: number;
  /** What it undergoes as a whole: the heaviest action of its changes (`None` when only the revision changes). */
  action: DisruptionAction;
  /** Cordoned and drained before it is told the revision. */
  drain: boolean;
  /** Each changed component or file with its action. */
  changes: MachineChange[];
}

export interface NodePoolPlanView {
  pool: string;
  /** The revision of the proposed template, as the node-operator computes it. */
  revision: string;
  /** The revision of the live template. */
  liveRevision: string;
  /** status.currentRevision: the last revision every machine ran healthy. */
  lastGoodRevision?: string;
  /** When the simulation starts (now), RFC 3339. */
  from: string;
  /** Machines in the pool under the proposed selector. */
  machines: number;
  /** Machines that get the revision, in rollout order. */
  changing: MachinePlan[];
  maxUnavailable: number;
  waves: SimulatedWave[];
  steps: SimulatedStep[];
  outcome: SimulationOutcome;
  /** Why the plan ends before the rollout completes. */
  stoppedBy?: RolloutPause;
  estimate: {
    /** Seconds from now to the outcome (for a stop, to the stop). */
    seconds: number;
    upgradeSeconds: number;
    drainSeconds: number;
    basis: string;
  };
}

export interface NodePoolPlanInput {
  live: NodePool;
  /** The pool as it would be stored (proposed-pool.ts). */
  proposed: NodePool;
  machines: readonly Machine[];
  /** The Nodes, by name; machines without one are judged from their Machine alone. */
  nodes: ReadonlyMap<string, V1Node>;
  now: Date;
}

export function planNodePool(input: NodePoolPlanInput): NodePoolPlanView {
  const { live, proposed, now } = input;
  const template = proposed.spec.template;
  const revision = templateRevision(template);
  const members = input.machines.filter((machine) => isPoolMember(machine, proposed));
  const states = members.map((machine) =>
    machineStateOf(machine, input.nodes.get(machine.metadata?.name ?? ''), proposed.spec, template),
  );
  const estimate = durationEstimate(members);
  const memory = rolloutMemoryOf(live, proposed, revision);
  const simulation = simulateRollout({
    pool: proposed.metadata?.name ?? '',
    spec: rolloutSpecOf(proposed),
    targetRevision: revision,
    ...(live.status?.currentRevision ? { lastGoodRevision: live.status.currentRevision } : {}),
    machines: states,
    start: now.getTime(),
    durations: () => ({ upgradeSeconds: estimate.upgradeSeconds, drainSeconds: estimate.drainSeconds }),
    ...memory,
  });

  const byName = new Map(members.map((machine) => [machine.metadata?.name ?? '', machine]));
  const stateOf = new Map(states.map((state) => [state.name, state]));
  const changing: MachinePlan[] = [];
  for (const wave of simulation.waves) {
    for (const name of wave.members) {
      const state = stateOf.get(name) as MachineState;
      if (state.desiredRevision === revision && state.currentRevision === revision) continue;
      const changes = machineChanges(byName.get(name)?.spec ?? {}, template, proposed.spec.disruptionPolicy);
      changing.push({
        machine: name,
        wave: wave.index,
        action: heaviestAction(changes.map((change) => change.action)) ?? 'None',
        drain: state.needsDisruption,
        changes,
      });
    }
  }

  const view: NodePoolPlanView = {
    pool: proposed.metadata?.name ?? '',
    revision,
    liveRevision: templateRevision(live.spec.template),
    from: now.toISOString(),
    machines: members.length,
    changing,
    maxUnavailable: simulation.maxUnavailable,
    waves: simulation.waves,
    steps: simulation.steps,
    outcome: simulation.outcome,
    estimate: {
      seconds: simulation.durationSeconds,
      upgradeSeconds: estimate.upgradeSeconds,
      drainSeconds: estimate.drainSeconds,
      basis: estimate.basis,
    },
  };
  if (live.status?.currentRevision !== undefined) view.lastGoodRevision = live.status.currentRevision;
  if (simulation.stoppedBy) view.stoppedBy = simulation.stoppedBy;
  return view;
}

/** The planner's view of the pool's rollout spec, defaulted as the node-operator does (its rolloutSpecOf). */
export function rolloutSpecOf(pool: NodePool): RolloutSpec {
  const rollout = pool.spec.rollout;
  const spec: RolloutSpec = { paused: pool.spec.paused === true };
  const maxUnavailable = rollout?.strategy?.rollingUpdate?.maxUnavailable;
  if (maxUnavailable !== undefined) spec.maxUnavailable = maxUnavailable;
  if (rollout?.waves)
    spec.waves = rollout.waves.map((wave) => {
      const waveSpec: WaveSpec = { name: wave.name };
      if (wave.count !== undefined) waveSpec.count = wave.count;
      if (wave.percent !== undefined) waveSpec.percent = wave.percent;
      if (wave.selector !== undefined) waveSpec.selector = wave.selector;
      if (wave.pauseAfter) waveSpec.pauseAfter = true;
      if (wave.bakeSeconds) waveSpec.bakeSeconds = wave.bakeSeconds;
      return waveSpec;
    });
  if (rollout?.maxFailed !== undefined) spec.maxFailed = rollout.maxFailed;
  if (rollout?.autoRollback !== undefined) spec.autoRollback = rollout.autoRollback;
  if (rollout?.order) spec.order = rollout.order.labelKeys;
  spec.progressDeadlineSeconds = rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  // 0 means no drain timeout.
  const drainTimeoutSeconds = pool.spec.drain?.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
  if (drainTimeoutSeconds > 0) spec.drainTimeoutSeconds = drainTimeoutSeconds;
  return spec;
}

/**
 * What the node-operator remembers about the rollout of `revision` (its rolloutMemoryFor): nothing for a
 * new revision; for the one under way, the waves a person resumed past and whether it was rolled back.
 */
export function rolloutMemoryOf(
  live: NodePool,
  proposed: NodePool,
  revision: string,
): { resumedAfterWave?: number; rolledBack: boolean } {
  const record = live.status?.rollout?.revision === revision ? live.status.rollout : undefined;
  let resumedAfterWave = record?.resumedAfterWave;
  const pausedAfter = /^([^/]+)\/(\d+)$/.exec(
    live.metadata?.annotations?.[PAUSED_AFTER_WAVE_ANNOTATION] ?? '',
  );
  // The operator paused the pool after that wave; proposing paused false resumes it past that wave.
  if (pausedAfter && pausedAfter[1] === revision && proposed.spec.paused !== true)
    resumedAfterWave = Math.max(resumedAfterWave ?? -1, Number(pausedAfter[2]));
  return {
    ...(resumedAfterWave === undefined ? {} : { resumedAfterWave }),
    rolledBack: record?.rolledBack === true,
  };
}
