/**
 * `kubectl kok nodepool plan`: what applying a NodePool spec would do, worked
 * out with the node-operator's own planner (libs/rollout planRollout, stepped
 * over simulated time by simulateRollout) on the live machines: the revision,
 * what each changing machine undergoes under the disruption policy, the waves
 * with their members, the budget at each step, bakes and pauses, and how long
 * it should take by the pool's own past upgrades. Pure: objects in, data out.
 */
import {
  heaviestAction,
  machineChanges,
  machineRolloutState,
  machineRolloutStateWithoutNode,
  poolRolloutSpec,
  RolloutAnnotations,
  templateRevision,
} from '@kok/api';
import type { DisruptionAction, Machine, MachineChange, NodePool } from '@kok/api';
import { isNodePoolMember, plannerMemory, poolRolloutMemory, simulateRollout } from '@kok/rollout';
import type {
  MachineState,
  RolloutPause,
  SimulatedStep,
  SimulatedWave,
  SimulationOutcome,
} from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';
import { durationEstimate } from './upgrade-durations.ts';

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
  const members = input.machines.filter((machine) => isNodePoolMember(machine, proposed));
  const context = {
    target: template,
    policy: proposed.spec.disruptionPolicy,
    healthGates: proposed.spec.rollout?.healthGates,
  };
  // Read as the node-operator reads them; a machine whose Node the reader may not see is judged from its Machine.
  const states: MachineState[] = members.map((machine) => {
    const node = input.nodes.get(machine.metadata?.name ?? '');
    return node
      ? machineRolloutState(machine, node, context)
      : machineRolloutStateWithoutNode(machine, context);
  });
  const estimate = durationEstimate(members);
  // The operator's memory of the live pool, under the spec proposed: proposing paused false resumes a pause it set.
  const memory = poolRolloutMemory(
    {
      record: live.status?.rollout,
      pausedAfterWave: live.metadata?.annotations?.[RolloutAnnotations.pausedAfterWave],
      paused: proposed.spec.paused,
    },
    revision,
  );
  const simulation = simulateRollout({
    pool: proposed.metadata?.name ?? '',
    spec: poolRolloutSpec(proposed),
    targetRevision: revision,
    ...(live.status?.currentRevision ? { lastGoodRevision: live.status.currentRevision } : {}),
    machines: states,
    start: now.getTime(),
    durations: () => ({ upgradeSeconds: estimate.upgradeSeconds, drainSeconds: estimate.drainSeconds }),
    ...plannerMemory(memory),
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
