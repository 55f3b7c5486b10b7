import { failPastDeadlines } from './machine-deadlines.ts';
import { isHealthyAt, type EpochMillis, type MachineState } from './machine-state.ts';

/** The reason a machine that did not converge in time is failed with, in messages and status. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/**
 * When the progress deadline of `machine` at `target` passes, or undefined when
 * no deadline runs for it: it was not told `target`, the time it was told is
 * unknown, it is healthy running it, the agent already reports a failure (that
 * counts on its own), or a remediation is working on it.
 */
export function progressDeadlineAt(
  machine: MachineState,
  target: string,
  deadlineSeconds: number,
): EpochMillis | undefined {
  if (
    machine.desiredRevision !== target ||
    machine.startedAt === undefined ||
    machine.failedRevision !== undefined ||
    machine.underRemediation === true ||
    isHealthyAt(machine, target)
  )
    return undefined;
  return machine.startedAt + deadlineSeconds * 1000;
}

/** The deadline has passed (at the deadline itself it has). */
export function isPastProgressDeadline(
  machine: MachineState,
  target: string,
  deadlineSeconds: number,
  now: EpochMillis,
): boolean {
  const deadline = progressDeadlineAt(machine, target, deadlineSeconds);
  return deadline !== undefined && now >= deadline;
}

/**
 * The machines as the rest of the planner sees them: one past its progress
 * deadline at `target` is failed there, like a failing health check, with a
 * message saying why; the others are passed through unchanged (same object).
 * `nextDeadline` is the earliest deadline still to come, to look again then.
 */
export function applyProgressDeadline(
  machines: readonly MachineState[],
  target: string,
  deadlineSeconds: number | undefined,
  now: EpochMillis,
): { machines: readonly MachineState[]; nextDeadline?: EpochMillis } {
  if (deadlineSeconds === undefined) return { machines };
  const view = failPastDeadlines(
    machines,
    target,
    now,
    (machine) => progressDeadlineAt(machine, target, deadlineSeconds),
    (machine) => ({
      reason: PROGRESS_DEADLINE_EXCEEDED,
      message: `${PROGRESS_DEADLINE_EXCEEDED}, not healthy at revision ${target} ${deadlineSeconds}s after it was told${machine.progressBlocker ? `: ${machine.progressBlocker}` : ''}`,
    }),
  );
  return {
    machines: view.machines,
    ...(view.nextDeadline === undefined ? {} : { nextDeadline: view.nextDeadline }),
  };
}
