/**
 * Where one Machine stands in its pool's rollout, read from the Machine alone
 * (what the node-operator wrote in spec and its RolloutFailed condition, what
 * the agent reported in status).
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Condition, Machine } from '@kok/api';

/** The reason the agent puts on UpToDate=False when a component failed (the node-operator reads the same). */
export const COMPONENT_FAILED_REASON = 'ComponentFailed';

export type MachineProgress =
  /** Told the target revision and the agent reports running it. */
  | 'Updated'
  /** Told the target revision; the agent has not finished. */
  | 'Updating'
  /** Failed while converging to the target revision, or counted failed by the rollout (RolloutFailed). */
  | 'Failed'
  /** Not told the target revision yet. */
  | 'Pending';

/** The agent reports a failure: a component Failed, or UpToDate False for ComponentFailed. */
export function isMachineFailed(machine: Machine): boolean {
  const upToDate = findCondition(machine.status?.conditions, MachineConditions.UpToDate);
  return (
    (machine.status?.components ?? []).some((component) => component.state === 'Failed') ||
    (upToDate?.status === 'False' && upToDate.reason === COMPONENT_FAILED_REASON)
  );
}

/**
 * The node-operator's RolloutFailed condition when True: the pool's rollout counts the machine failed
 * at its target for a cause the agent did not report (e.g. ProgressDeadlineExceeded). The operator
 * removes it once that no longer holds, so it is about the pool's current target.
 */
function rolloutFailure(machine: Machine): Condition | undefined {
  const condition = findCondition(machine.status?.conditions, MachineConditions.RolloutFailed);
  return condition?.status === 'True' ? condition : undefined;
}

/**
 * Why it failed: the agent's short account (e.g. `kubelet: exec check exited 1`), or else the
 * rollout's (e.g. `ProgressDeadlineExceeded, not healthy at revision … 600s after it was told: …`).
 */
export function failureMessageOf(machine: Machine): string {
  const failed = (machine.status?.components ?? []).filter((component) => component.state === 'Failed');
  if (failed.length > 0) return failed.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ');
  const upToDate = findCondition(machine.status?.conditions, MachineConditions.UpToDate);
  if (upToDate?.status === 'False' && upToDate.reason === COMPONENT_FAILED_REASON)
    return upToDate.message || 'a component failed';
  const rollout = rolloutFailure(machine);
  return rollout?.message || rollout?.reason || 'a component failed';
}

export function machineProgress(machine: Machine, target: string): MachineProgress {
  const desired = machine.spec?.revision;
  const converging = machine.status?.revision?.desired ?? desired;
  if (converging === target && isMachineFailed(machine)) return 'Failed';
  // Also before it was told the target: a drain for it that timed out fails it.
  if (rolloutFailure(machine)) return 'Failed';
  if (desired !== target) return 'Pending';
  return machine.status?.revision?.current === target ? 'Updated' : 'Updating';
}
