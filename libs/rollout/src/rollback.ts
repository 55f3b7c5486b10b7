import { isHealthyAt, type MachineState } from './machine-state.ts';

/**
 * The machines a rollback sends back to the last good revision: those told the
 * target that are not healthy running it (failed, or still on their way).
 * Machines already healthy at the target stay, and a machine under remediation
 * is left to it until it is done. Every machine returned already holds a place
 * in the disruption budget (it is unavailable or has not reached what it was
 * told), so a rollback never takes more machines down than the budget allows.
 */
export function machinesToRollBack(ordered: readonly MachineState[], target: string): MachineState[] {
  return ordered.filter(
    (machine) =>
      machine.desiredRevision === target &&
      !isHealthyAt(machine, target) &&
      machine.underRemediation !== true,
  );
}
