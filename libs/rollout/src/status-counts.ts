import { isUnavailable, type MachineState } from './machine-state.ts';

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

/** Counts the pool's machines for NodePool status. */
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
