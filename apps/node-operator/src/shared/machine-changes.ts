import type { Predicate } from '@kok/reconcile';
import type { MachineObject } from '@kok/api';

/**
 * A Machine as the NodePool and RemediationPolicy controllers read it, less
 * what changes often and concerns neither: the agent's heartbeat and, for the
 * rollout (`withNodeStatus` false), what the Machine controller mirrors from
 * the Node (nodeRef, NodeHealthy and the Node<Type> conditions). The rollout
 * reads the Node itself, so at start-up 10,000 nodeRef writes replan no pool.
 */
export function machineProjection(machine: MachineObject, withNodeStatus: boolean): string {
  // phase is derived from the rest (machine-phase.ts): it changes nothing either controller reads.
  const { nodeRef, agent, conditions, phase: _phase, ...status } = machine.status ?? {};
  const kept = withNodeStatus ? conditions : conditions?.filter((c) => !c.type.startsWith('Node'));
  return JSON.stringify([
    machine.metadata?.uid,
    machine.metadata?.deletionTimestamp,
    machine.metadata?.labels,
    machine.metadata?.annotations,
    machine.spec,
    status,
    kept,
    agent?.version,
    withNodeStatus ? nodeRef : undefined,
  ]);
}

/** For Machine → NodePool: changes the rollout plans on. */
export const machineChangedForRollout: Predicate<MachineObject> = {
  update: (oldMachine, newMachine) =>
    machineProjection(oldMachine, false) !== machineProjection(newMachine, false),
};

/** For Machine → RemediationPolicy: every change but heartbeats (any condition may be an unhealthy one). */
export const machineChangedForRemediation: Predicate<MachineObject> = {
  update: (oldMachine, newMachine) =>
    machineProjection(oldMachine, true) !== machineProjection(newMachine, true),
};
