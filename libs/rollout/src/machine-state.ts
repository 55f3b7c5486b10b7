/** Milliseconds since the Unix epoch, as `Date.now()` returns; Kubernetes timestamps convert with `Date.parse`. */
export type EpochMillis = number;

/**
 * What the planner knows about one machine of the pool: its Machine, its Node
 * and what the agent reports, observed by the caller.
 */
export interface MachineState {
  /** Machine name, which is also the Node name. */
  name: string;
  /** The machine's labels; `order` keys and wave selectors read them. */
  labels: Readonly<Record<string, string>>;
  /** Revision the agent reports running (`status.revision.current`); undefined before its first report. */
  currentRevision?: string;
  /** Revision the machine has been told to run (`spec.revision`); undefined until one is assigned. */
  desiredRevision?: string;
  /** The Node exists and is Ready and the agent is ready. False when the Node is missing. */
  ready: boolean;
  /**
   * The revision at which the agent reports a failure (the update failed, a component is unhealthy);
   * undefined while the machine is healthy. The agent clears it once healthy at some revision.
   */
  failedRevision?: string;
  /** The agent's short account of the failure, quoted in messages (e.g. "kubelet: exec check exited 1"). */
  failureMessage?: string;
  /**
   * One CamelCase word for the cause when the planner or the caller judged the failure rather than the
   * agent (e.g. "ProgressDeadlineExceeded"); the caller records such failures on the Machine under it.
   */
  failureReason?: string;
  /** The Node is unschedulable, whoever did it. */
  cordoned: boolean;
  /** The rollout cordoned it (the caller keeps a marker), so the rollout may lift the cordon. Default false. */
  cordonedByRollout?: boolean;
  /**
   * Every pod that had to leave is gone since the current cordon (Machine condition Drained; the
   * caller clears it on uncordon). Default false.
   */
  drained?: boolean;
  /**
   * When the rollout cordoned it to drain it (the caller records it with the cordon); the drain
   * timeout counts from here. Without it no drain timeout runs.
   */
  drainStartedAt?: EpochMillis;
  /**
   * What the drain still waits for, in the drainer's words (e.g. "waiting for shop/db-0 (eviction
   * refused: …)"); quoted when the drain times out.
   */
  drainBlocker?: string;
  /**
   * The pool's health gates its Node does not meet, e.g. `["KernelDeadlock=False"]` (a missing
   * condition does not meet its gate). While any is unmet the machine is not healthy at any revision,
   * so it is unavailable, just like a Node that is not Ready. Default: none.
   */
  unmetHealthGates?: readonly string[];
  /** A remediation is working on the machine: it counts as unavailable and the rollout leaves it alone. Default false. */
  underRemediation?: boolean;
  /** Moving this machine to the target revision needs a drain first (disruptionPolicy Drain or Reboot). */
  needsDisruption: boolean;
  /**
   * When it was told `desiredRevision` (the caller records it with the assignment, where a restart
   * finds it again). The progress deadline counts from here; without it no deadline runs.
   */
  startedAt?: EpochMillis;
  /**
   * What keeps it from being healthy at `desiredRevision`, in the agent's and the Node's words
   * (e.g. "AgentReady False ArtifactDownloadFailed: sha256 mismatch", "Node NotReady"); quoted
   * when the progress deadline passes.
   */
  progressBlocker?: string;
  /**
   * When it became healthy at its desired revision (e.g. the UpToDate condition's lastTransitionTime).
   * Bakes are measured from it; when it is missing the bake counts as over.
   */
  finishedAt?: EpochMillis;
}

/**
 * Unavailable in the design's sense: Node NotReady or missing, a health gate
 * unmet, cordoned, not healthy at its current revision, or under remediation.
 * It counts against the pool's budget whatever the cause.
 */
export function isUnavailable(machine: MachineState): boolean {
  return (
    !machine.ready ||
    failsHealthGate(machine) ||
    machine.cordoned ||
    machine.failedRevision !== undefined ||
    machine.underRemediation === true
  );
}

/** It has been told a revision that the agent does not run yet. */
export function isConverging(machine: MachineState): boolean {
  return machine.desiredRevision !== undefined && machine.currentRevision !== machine.desiredRevision;
}

/**
 * Takes a place in the disruption budget: unavailable, or handed a revision it
 * has not reached yet. A change that needs no drain can still break a node, so
 * until the agent reports it done it is counted as a disruption too.
 */
export function occupiesBudget(machine: MachineState): boolean {
  return isUnavailable(machine) || isConverging(machine);
}

/** Its Node does not meet one of the pool's health gates. */
export function failsHealthGate(machine: MachineState): boolean {
  return machine.unmetHealthGates !== undefined && machine.unmetHealthGates.length > 0;
}

/**
 * Runs `revision`, Ready, meeting every health gate, with no failure and no remediation. A cordon
 * does not matter here.
 */
export function isHealthyAt(machine: MachineState, revision: string | undefined): boolean {
  return (
    revision !== undefined &&
    machine.currentRevision === revision &&
    machine.ready &&
    !failsHealthGate(machine) &&
    machine.failedRevision === undefined &&
    machine.underRemediation !== true
  );
}

/** Told `target` and healthy running it: this machine's part of the rollout is done. */
export function isDoneAt(machine: MachineState, target: string): boolean {
  return machine.desiredRevision === target && isHealthyAt(machine, target);
}

/** Cordoned by someone other than the rollout; the rollout does not touch such a machine. */
export function isCordonedElsewhere(machine: MachineState): boolean {
  return machine.cordoned && machine.cordonedByRollout !== true;
}
