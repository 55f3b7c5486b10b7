/**
 * The ETA `nodepool status --watch` shows: the rollout under way, simulated
 * from where it stands now with the planner (as `nodepool plan` does), at the
 * pace of the pool's observed upgrades, which include those this rollout has
 * finished so far, so the estimate follows the rollout as it goes. Pure.
 */
import {
  machineRolloutStateWithoutNode,
  poolRolloutSpec,
  RolloutAnnotations,
  templateRevision,
} from '@kok/api';
import type { Machine, NodePool } from '@kok/api';
import { isNodePoolMember, plannerMemory, poolRolloutMemory, simulateRollout } from '@kok/rollout';
import type { RolloutPause, SimulatedWave, SimulationOutcome } from '@kok/rollout';
import { durationEstimate } from './upgrade-durations.ts';

export interface RolloutEta {
  outcome: SimulationOutcome;
  /** Seconds from now to the outcome. */
  seconds: number;
  stoppedBy?: RolloutPause;
  /** Where the pace comes from. */
  basis: string;
  waves: SimulatedWave[];
}

export function rolloutEta(pool: NodePool, machines: readonly Machine[], now: Date): RolloutEta {
  const target = pool.status?.updateRevision ?? templateRevision(pool.spec.template);
  const members = machines.filter((machine) => isNodePoolMember(machine, pool));
  // Only Machines are watched: readiness and the cordon come from what the node-operator copies onto them.
  const context = {
    target: pool.spec.template,
    policy: pool.spec.disruptionPolicy,
    healthGates: pool.spec.rollout?.healthGates,
  };
  const states = members.map((machine) => machineRolloutStateWithoutNode(machine, context));
  const estimate = durationEstimate(members);
  const simulation = simulateRollout({
    pool: pool.metadata?.name ?? '',
    spec: poolRolloutSpec(pool),
    targetRevision: target,
    ...(pool.status?.currentRevision ? { lastGoodRevision: pool.status.currentRevision } : {}),
    machines: states,
    start: now.getTime(),
    durations: () => ({ upgradeSeconds: estimate.upgradeSeconds, drainSeconds: estimate.drainSeconds }),
    ...plannerMemory(
      poolRolloutMemory(
        {
          record: pool.status?.rollout,
          pausedAfterWave: pool.metadata?.annotations?.[RolloutAnnotations.pausedAfterWave],
          paused: pool.spec.paused,
        },
        target,
      ),
    ),
  });
  const eta: RolloutEta = {
    outcome: simulation.outcome,
    seconds: simulation.durationSeconds,
    basis: estimate.basis,
    waves: simulation.waves,
  };
  if (simulation.stoppedBy) eta.stoppedBy = simulation.stoppedBy;
  return eta;
}
