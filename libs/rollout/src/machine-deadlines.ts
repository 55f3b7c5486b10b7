import type { EpochMillis, MachineState } from './machine-state.ts';

/** The machines with every one past its deadline failed, and when to look again. */
export interface DeadlineView {
  /** The machines as the rest of the planner sees them: unchanged ones are the same objects. */
  machines: readonly MachineState[];
  /** The machines failed here, by name, each as it was observed before. */
  failed: ReadonlyMap<string, MachineState>;
  /** The earliest deadline still to come. */
  nextDeadline?: EpochMillis;
}

/**
 * Fails at `target` every machine whose deadline (`deadlineOf`, undefined when
 * none runs for it) has passed at `now` — at the deadline itself it has — with
 * the reason and message `failure` gives. The one mechanism behind the progress
 * deadline and the drain timeout.
 */
export function failPastDeadlines(
  machines: readonly MachineState[],
  target: string,
  now: EpochMillis,
  deadlineOf: (machine: MachineState) => EpochMillis | undefined,
  failure: (machine: MachineState) => { reason: string; message: string },
): DeadlineView {
  const failed = new Map<string, MachineState>();
  let nextDeadline: EpochMillis | undefined;
  const result = machines.map((machine) => {
    const deadline = deadlineOf(machine);
    if (deadline === undefined) return machine;
    if (now < deadline) {
      if (nextDeadline === undefined || deadline < nextDeadline) nextDeadline = deadline;
      return machine;
    }
    failed.set(machine.name, machine);
    const { reason, message } = failure(machine);
    return { ...machine, failedRevision: target, failureReason: reason, failureMessage: message };
  });
  return {
    machines: failed.size > 0 ? result : machines,
    failed,
    ...(nextDeadline === undefined ? {} : { nextDeadline }),
  };
}
