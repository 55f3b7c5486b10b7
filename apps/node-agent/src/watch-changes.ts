/**
 * Which watch updates start a convergence pass. The agent's own status writes
 * come back through its Machine watch, and the node-operator answers them
 * (Machine phase, NodePool status). A pass for each of those would write
 * status again and, while a download fails, retry it at once: every host
 * writing its Machine in a loop. So only a change to what a pass reads starts
 * one.
 */
import { isDeepStrictEqual } from 'node:util';
import { MachineConditions } from '@kok/api/core';
import type { MachineObject } from './resources.ts';

/** The node-operator's conditions that decommission.ts reads; the agent's own ones are not an input. */
const READ_CONDITIONS: readonly string[] = [MachineConditions.Drained, MachineConditions.Decommissioned];

/**
 * What a pass reads of its Machine and does not write itself. A field the
 * agent starts to read (other than its own status) must be added here, or a
 * change to it waits for the next resync.
 */
function convergenceInputs(machine: MachineObject): unknown {
  return {
    uid: machine.metadata?.uid,
    generation: machine.metadata?.generation,
    deletionTimestamp: machine.metadata?.deletionTimestamp,
    spec: machine.spec,
    conditions: machine.status?.conditions?.filter((c) => READ_CONDITIONS.includes(c.type)),
  };
}

/** True when the update changed what a pass reads; false for an echo of the agent's own status write. */
export function machineChangedForAgent(before: MachineObject, after: MachineObject): boolean {
  return !isDeepStrictEqual(convergenceInputs(before), convergenceInputs(after));
}

/** For Components and the NodePool, of which the agent reads the spec only: their status comes and goes. */
export function specChanged(before: { spec?: unknown }, after: { spec?: unknown }): boolean {
  return !isDeepStrictEqual(before.spec, after.spec);
}
