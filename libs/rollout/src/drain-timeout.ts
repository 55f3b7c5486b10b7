import { failPastDeadlines } from './machine-deadlines.ts';
import type { EpochMillis, MachineState } from './machine-state.ts';

/** The reason a machine whose drain outlasted the timeout is failed with, in messages and status. */
export const DRAIN_TIMEOUT = 'DrainTimeout';

/**
 * When the rollout's drain of `machine` for `target` times out, or undefined
 * when no drain timeout runs for it: it is not cordoned by the rollout, already
 * told `target` (or needs no drain for it), drained, the drain's start is
 * unknown, the agent already reports a failure (that counts on its own), or a
 * remediation is working on it.
 */
export function drainDeadlineAt(
  machine: MachineState,
  target: string,
  timeoutSeconds: number,
): EpochMillis | undefined {
  if (
    machine.cordonedByRollout !== true ||
    machine.desiredRevision === target ||
    !machine.needsDisruption ||
    machine.drained === true ||
    machine.drainStartedAt === undefined ||
    machine.failedRevision !== undefined ||
    machine.underRemediation === true
  )
    return undefined;
  return machine.drainStartedAt + timeoutSeconds * 1000;
}

/** The drain has timed out (at the deadline itself it has). */
export function isPastDrainTimeout(
  machine: MachineState,
  target: string,
  timeoutSeconds: number,
  now: EpochMillis,
): boolean {
  const deadline = drainDeadlineAt(machine, target, timeoutSeconds);
  return deadline !== undefined && now >= deadline;
}

export interface DrainTimeoutView {
  /** The machines as the rest of the planner sees them. */
  machines: readonly MachineState[];
  /**
   * The machines this view failed, by name, each as it was observed: they are healthy where they
   * run (only their drain failed), so a stopped rollout may give them back like any other.
   */
  timedOut: ReadonlyMap<string, MachineState>;
  /** The earliest drain timeout still to come, to look again then. */
  nextDeadline?: EpochMillis;
}

/**
 * The machines as the rest of the planner sees them: one whose drain for
 * `target` has outlasted `timeoutSeconds` is failed at `target`, so it counts
 * against maxFailed, with a message saying what the drain still waits for. The
 * drain itself goes on: nothing here evicts, the caller keeps draining while the
 * plan says so. The others are passed through unchanged (same object).
 */
export function applyDrainTimeout(
  machines: readonly MachineState[],
  target: string,
  timeoutSeconds: number | undefined,
  now: EpochMillis,
): DrainTimeoutView {
  if (timeoutSeconds === undefined) return { machines, timedOut: new Map() };
  const { failed, ...view } = failPastDeadlines(
    machines,
    target,
    now,
    (machine) => drainDeadlineAt(machine, target, timeoutSeconds),
    (machine) => ({
      reason: DRAIN_TIMEOUT,
      message: `${DRAIN_TIMEOUT}, drain for revision ${target} not done ${timeoutSeconds}s after it began${machine.drainBlocker ? `: ${machine.drainBlocker}` : ''}`,
    }),
  );
  return { ...view, timedOut: failed };
}
