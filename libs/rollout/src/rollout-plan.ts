import type { EpochMillis, MachineState } from './machine-state.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import type { RolloutCounts } from './status-counts.ts';
import type { MachineWait } from './wait-reasons.ts';

/** Everything the planner looks at: observed state and the time, nothing else. */
export interface RolloutInput {
  /** The NodePool's name, for messages. */
  pool: string;
  spec: RolloutSpec;
  /** The revision being rolled out (`status.updateRevision`). */
  targetRevision: string;
  /** The last revision that was healthy on the whole pool (`status.currentRevision`); rollbacks go there. */
  lastGoodRevision?: string;
  machines: readonly MachineState[];
  now: EpochMillis;
  /**
   * The highest wave index a person has resumed the rollout past: the `pauseAfter` of that wave and
   * of every earlier one no longer holds the pool. The caller keeps it per target revision and resets
   * it when the target changes; e.g. on an AwaitingResume plan it sets `spec.paused` and remembers the
   * wave, and once a person sets `paused` back to false it records that wave here. Default: none.
   */
  resumedAfterWave?: number;
  /**
   * The caller set `spec.paused` itself after this wave's `pauseAfter: true` (the AwaitingResume plan
   * above) and it is still set: the pool and the machines held by the pause wait for a resume past
   * that wave, not for a person's pause. Only what the plan says changes (`plan.waiting`, and the
   * pause's reason AwaitingResume and message); what it starts does not. Default: none.
   */
  pausedAfterWave?: number;
  /**
   * A previous plan rolled `targetRevision` back (the caller records it, e.g. condition RolledBack
   * naming the revision). Keeps the pool from rolling the failed revision out again once the reverted
   * machines heal; a new target revision clears it. Default false.
   */
  rolledBack?: boolean;
}

/** Write `revision` into this Machine's `spec.revision`. */
export interface RevisionAssignment {
  machine: string;
  revision: string;
}

export type PauseReason =
  /** `spec.paused` is set. */
  | 'Paused'
  /** A wave is complete and must stay healthy a while before the next starts. */
  | 'Baking'
  /** A wave with `pauseAfter: <seconds>` is complete; the next starts on its own when the time is up. */
  | 'PauseAfter'
  /** A wave with `pauseAfter: true` is complete; a person must resume the rollout. */
  | 'AwaitingResume'
  /** More machines failed at the target revision than `maxFailed` allows, and no rollback is possible or wanted. */
  | 'FailureBudgetExceeded'
  /** The target revision failed and was rolled back. */
  | 'RolledBack'
  /** The rollout spec cannot be acted on. */
  | 'InvalidSpec';

/** A machine the planner counts failed at the target revision (`failedRevision`), and why. */
export interface FailedMachine {
  machine: string;
  revision: string;
  /** `MachineState.failureReason`: present when the failure was judged for the agent, not reported by it. */
  reason?: string;
  message?: string;
}

/** The pool starts no new machine, and why. */
export interface RolloutPause {
  reason: PauseReason;
  /** What happened, to which machines, what limit decided it, and what a person can do. */
  message: string;
  /** When a timed hold ends. */
  until?: EpochMillis;
}

export interface RolloutRollback {
  fromRevision: string;
  toRevision: string;
  /** Machines sent back to `toRevision` by this plan. */
  machines: string[];
}

/** What to do now. Data only: print it, diff it, apply it with idempotent patches. */
export interface RolloutPlan {
  targetRevision: string;
  /** Revisions to write, in rollout order. */
  assign: RevisionAssignment[];
  /** Nodes to cordon, marking the cordon as the rollout's. */
  cordon: string[];
  /** Nodes whose pods to evict (PDB-aware); already cordoned or in `cordon`. */
  drain: string[];
  /** Nodes whose rollout cordon to lift. */
  uncordon: string[];
  /** Present when no new machine may start now. */
  pause?: RolloutPause;
  /** Present when this plan sends machines back to the last good revision. */
  rollback?: RolloutRollback;
  /** The target revision is rolled back; record it and pass `rolledBack` until the target changes. */
  rolledBack: boolean;
  /** Every machine runs the target healthy and the last wave has baked: it is the new last good revision. */
  complete: boolean;
  /** Index of the wave being rolled out, or held after (`status.currentWave`). */
  currentWave: number;
  /** How many waves the rollout has, counting the implicit last one. */
  waveCount: number;
  /** `maxUnavailable` resolved for this pool's size. */
  maxUnavailable: number;
  counts: RolloutCounts;
  /**
   * Every machine counted failed at the target, in rollout order: those the agent reports and those
   * failed for it (a passed progress deadline), so the caller can record the latter on the Machine.
   */
  failed: FailedMachine[];
  /**
   * Every machine not at the target that is held, in rollout order, and what holds it (wait-reasons.ts).
   * A machine doing its part (being drained, updating) is not listed.
   */
  waiting: MachineWait[];
  /** One line on where the rollout stands, for Events and `kubectl describe`. */
  message: string;
  /** Look again at this time even if nothing changes (end of a bake, a timed pause or a progress deadline). */
  wakeAt?: EpochMillis;
}
