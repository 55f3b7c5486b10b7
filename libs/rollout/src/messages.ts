import type { EpochMillis, MachineState } from './machine-state.ts';

/** At most this many names go into one message, so messages stay short on a 10,000-machine pool. */
export const NAMES_IN_MESSAGES = 5;

/** "a, b, c" or "a, b, c, d, e and 7 more". */
export function listNames(items: readonly string[], limit = NAMES_IN_MESSAGES): string {
  return listDescribed(items, (item) => item, limit);
}

/** Like `listNames`, describing only the items that get named: the rest are only counted. */
export function listDescribed<T>(
  items: readonly T[],
  describe: (item: T) => string,
  limit = NAMES_IN_MESSAGES,
): string {
  const named = items.slice(0, limit).map(describe).join(', ');
  return items.length <= limit ? named : `${named} and ${items.length - limit} more`;
}

/** "1 machine", "3 machines". */
export function machinesCount(count: number): string {
  return `${count} machine${count === 1 ? '' : 's'}`;
}

/** `worker-17 (kubelet: exec check exited 1)`, or just the name when the agent gave no reason. */
export function describeFailure(machine: MachineState): string {
  return machine.failureMessage ? `${machine.name} (${machine.failureMessage})` : machine.name;
}

/** Why a machine takes a place in the budget, e.g. `worker-3 (NotReady)`. */
export function describeUnavailability(machine: MachineState): string {
  const reasons: string[] = [];
  if (!machine.ready) reasons.push('NotReady');
  if (machine.unmetHealthGates && machine.unmetHealthGates.length > 0)
    reasons.push(`health gate ${machine.unmetHealthGates.join(', ')} not met`);
  if (machine.failedRevision !== undefined) reasons.push(`failed at revision ${machine.failedRevision}`);
  if (machine.underRemediation) reasons.push('under remediation');
  if (machine.cordoned) reasons.push(machine.cordonedByRollout ? 'cordoned for the rollout' : 'cordoned');
  if (machine.desiredRevision !== undefined && machine.currentRevision !== machine.desiredRevision) {
    reasons.push(`updating to revision ${machine.desiredRevision}`);
  }
  return `${machine.name} (${reasons.join(', ')})`;
}

/** A time as people read it in `kubectl` output. */
export function formatTime(time: EpochMillis): string {
  return new Date(time).toISOString();
}
