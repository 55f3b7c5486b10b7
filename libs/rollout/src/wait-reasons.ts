import type { EpochMillis } from './machine-state.ts';
import { formatTime, machinesCount, NAMES_IN_MESSAGES } from './messages.ts';

/**
 * Why a machine of a NodePool is not moving to the pool's target revision:
 * every hold the planner (planRollout) and the node-operator around it can
 * put on a machine, as data. `describeWaitReason` turns one into the sentences
 * a person reads in `Machine.status.waitingFor` and `kubectl kok why`.
 */
export type WaitReason =
  /** `spec.paused` is set on the pool: by a person (kubectl kok nodepool pause) or a tool. */
  | { kind: 'Paused' }
  /** The pool holds after a complete wave with `pauseAfter: true` until a person resumes it. */
  | { kind: 'AwaitingResume'; wave: string; nextWave: string }
  /** The pool holds after a complete wave with `pauseAfter: <seconds>` until a time. */
  | { kind: 'PauseAfter'; wave: string; until: EpochMillis }
  /** A complete wave must stay healthy until a time before the next one starts (`bakeSeconds`). */
  | { kind: 'Baking'; wave: string; until: EpochMillis }
  /** Its wave has not opened: an earlier wave (`currentWave`) is still rolling out. */
  | { kind: 'WaitingForWave'; wave: string; currentWave: string }
  /**
   * The pool's disruption budget has no room. `holders` names the machines taking its places (at most
   * a few, `holderCount` in all); it is left out where the names would change too often to store.
   */
  | { kind: 'BudgetFull'; maxUnavailable: number; holders?: readonly string[]; holderCount?: number }
  /** The version-skew guard holds the pool (e.g. a kubelet newer than the apiserver). */
  | { kind: 'VersionSkew'; problem: string }
  /** The pool's template names what the Component catalog does not offer. */
  | { kind: 'CatalogProblem'; problem: CatalogProblemKind; detail: string }
  /** More machines failed at the target than `maxFailed` allows; the pool stopped. */
  | {
      kind: 'FailureBudgetExceeded';
      revision: string;
      failed: readonly string[];
      failedCount: number;
      maxFailed: number;
    }
  /** The target revision was rolled back; the pool does not roll it out again. */
  | { kind: 'RolledBack'; revision: string; toRevision?: string }
  /** The rollout spec cannot be acted on. */
  | { kind: 'InvalidSpec'; problems: readonly string[] }
  /**
   * Its drain for the target waits for a pod that may not leave now: a PodDisruptionBudget refused its
   * eviction (named when the apiserver says which), or kok may not evict it (`detail` says why).
   */
  | { kind: 'DrainBlocked'; pod: string; podDisruptionBudget?: string; detail: string }
  /** A remediation is working on it; the rollout leaves it alone until that ends. */
  | { kind: 'UnderRemediation' }
  /** Its Node is cordoned by someone other than the rollout, which leaves it alone. */
  | { kind: 'CordonedOutsideRollout' }
  /** The Machine carries the `nodes.kok.dev/paused` annotation; the rollout does not touch it. */
  | { kind: 'MachinePaused'; annotation: string }
  /** It failed at the target revision (the agent reported it, or the rollout judged it, e.g. a deadline). */
  | { kind: 'Failed'; revision: string; detail: string }
  /** Its node agent has not reported since a time (or ever, without `since`). */
  | { kind: 'AgentNotReporting'; since?: EpochMillis }
  /** Its Node does not meet the pool's `rollout.healthGates`, so it does not count as healthy. */
  | { kind: 'HealthGate'; gates: readonly string[] };

export type WaitReasonKind = WaitReason['kind'];

/** The catalog problems a template can have (the node-operator's catalog check). */
export type CatalogProblemKind = 'ComponentNotFound' | 'VersionNotFound' | 'ComponentNotAccepted';

/** Every kind, so a test can hold a sentence for each: a kind missing here does not compile. */
export const WAIT_REASON_KINDS = [
  'Paused',
  'AwaitingResume',
  'PauseAfter',
  'Baking',
  'WaitingForWave',
  'BudgetFull',
  'VersionSkew',
  'CatalogProblem',
  'FailureBudgetExceeded',
  'RolledBack',
  'InvalidSpec',
  'DrainBlocked',
  'UnderRemediation',
  'CordonedOutsideRollout',
  'MachinePaused',
  'Failed',
  'AgentNotReporting',
  'HealthGate',
] as const satisfies readonly WaitReasonKind[];

// Compiles only while WAIT_REASON_KINDS lists every kind of WaitReason.
const everyKindListed: Exclude<WaitReasonKind, (typeof WAIT_REASON_KINDS)[number]> extends never
  ? true
  : never = true;
void everyKindListed;

/** One machine of the plan that is not moving to the target, and why. */
export interface MachineWait {
  machine: string;
  reason: WaitReason;
}

/**
 * One or two plain sentences on what holds a machine of NodePool `pool`: the
 * hold with names and times, and what a person can do about it.
 */
export function describeWaitReason(reason: WaitReason, pool: string): string {
  const nodePool = `NodePool ${JSON.stringify(pool)}`;
  switch (reason.kind) {
    case 'Paused':
      return `${nodePool} is paused (spec.paused), so no machine starts its update. Resume it with: kubectl kok nodepool resume ${pool}.`;
    case 'AwaitingResume':
      return (
        `${nodePool} holds after wave ${reason.wave} (pauseAfter: true) until a person resumes it. ` +
        `Check that wave, then run kubectl kok nodepool resume ${pool} to start ${reason.nextWave}.`
      );
    case 'PauseAfter':
      return (
        `${nodePool} holds after wave ${reason.wave} until ${formatTime(reason.until)} (pauseAfter). ` +
        `The next wave starts on its own then; pause the pool to keep it from starting.`
      );
    case 'Baking':
      return (
        `Wave ${reason.wave} of ${nodePool} is baking until ${formatTime(reason.until)}: its machines must stay healthy ` +
        `that long before the next wave starts. Nothing to do unless they fail.`
      );
    case 'WaitingForWave':
      return (
        `Waiting for its wave, ${reason.wave}: ${nodePool} is still rolling out ${reason.currentWave}. ` +
        `It starts once the waves before it are complete.`
      );
    case 'BudgetFull': {
      const takenBy =
        reason.holders && reason.holders.length > 0
          ? `taken by ${listNamesOf(reason.holders, reason.holderCount)}`
          : `taken by machines being updated or unavailable (kubectl kok why nodepool ${pool} names them)`;
      return (
        `Waiting for room in the disruption budget of ${nodePool}: maxUnavailable ${reason.maxUnavailable} is ${takenBy}. ` +
        `It starts as soon as one of them is back in service; a larger maxUnavailable lets more update at once.`
      );
    }
    case 'VersionSkew':
      return (
        `${nodePool} is held by the version-skew guard: ${reason.problem}. ` +
        `Upgrade the control plane first, or change the pool template's version.`
      );
    case 'CatalogProblem':
      return (
        `${nodePool}'s template names what the Component catalog does not offer (${reason.problem}): ${reason.detail}. ` +
        `Fix the Component or the pool template; the rollout goes on by itself then.`
      );
    case 'FailureBudgetExceeded':
      return (
        `${nodePool} stopped: ${machinesCount(reason.failedCount)} failed at revision ${reason.revision} ` +
        `(${listNamesOf(reason.failed, reason.failedCount)}), more than maxFailed ${reason.maxFailed}. ` +
        `Fix or remove the failed machines, raise maxFailed, or roll back with kubectl kok nodepool rollback ${pool}.`
      );
    case 'RolledBack':
      return (
        `${nodePool} rolled revision ${reason.revision} back${reason.toRevision ? ` to revision ${reason.toRevision}` : ''} ` +
        `and does not roll it out again. Change the pool template to roll out a fixed revision.`
      );
    case 'InvalidSpec':
      return `${nodePool} cannot roll out: ${reason.problems.join('; ')}. Fix the pool spec.`;
    case 'DrainBlocked':
      return reason.podDisruptionBudget
        ? `Its drain is blocked: PodDisruptionBudget ${reason.podDisruptionBudget} allows no disruption of pod ${reason.pod} now. ` +
            `The drain retries by itself; add replicas to that workload or relax the budget to let the pod go.`
        : `Its drain is blocked by pod ${reason.pod}: ${reason.detail}. The drain retries by itself once the pod may leave.`;
    case 'UnderRemediation':
      return 'A remediation is working on it (condition Remediating); the rollout leaves it alone until that ends.';
    case 'CordonedOutsideRollout':
      return 'Its Node is cordoned by someone other than the rollout, which leaves it alone. Uncordon the Node to let it update.';
    case 'MachinePaused':
      return `The Machine carries the annotation ${reason.annotation}, so the rollout does not touch it. Remove the annotation to let it update.`;
    case 'Failed':
      return (
        `It failed at revision ${reason.revision}: ${reason.detail}. ` +
        `It counts against the pool's maxFailed; repair the host, or roll the pool back.`
      );
    case 'AgentNotReporting':
      return (
        (reason.since === undefined
          ? 'Its node agent has never reported, so the rollout cannot tell what the host runs. '
          : `Its node agent has not reported since ${formatTime(reason.since)}, so the rollout cannot tell what the host runs. `) +
        'Check the agent on the host (its service and its credentials).'
      );
    case 'HealthGate':
      return (
        `Its Node does not meet the pool's health gate ${reason.gates.join(', ')}, so it does not count as healthy. ` +
        `Clear the problem behind that Node condition to let the rollout go on.`
      );
    default:
      return unreachable(reason);
  }
}

/** "a, b" or "a, b, c, d, e and 7 more", where `total` may count more than the names given. */
function listNamesOf(names: readonly string[], total = names.length): string {
  const named = names.slice(0, NAMES_IN_MESSAGES);
  const more = Math.max(total, names.length) - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}

function unreachable(reason: never): never {
  throw new Error(`no sentence for wait reason ${JSON.stringify(reason)}`);
}
