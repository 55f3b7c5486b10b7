/**
 * Where one Machine stands in its pool's rollout, read from the Machine alone
 * (what the node-operator wrote in spec, what the agent reported in status).
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';

/** The reason the agent puts on UpToDate=False when a component failed (the node-operator reads the same). */
export const COMPONENT_FAILED_REASON = 'ComponentFailed';

export type MachineProgress =
  /** Told the target revision and the agent reports running it. */
  | 'Updated'
  /** Told the target revision; the agent has not finished. */
  | 'Updating'
  /** Failed while converging to the target revision. */
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

/** The agent's short account of a failure, e.g. `kubelet: exec check exited 1`. */
export function failureMessageOf(machine: Machine): string {
  const failed = (machine.status?.components ?? []).filter((component) => component.state === 'Failed');
  if (failed.length > 0) return failed.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ');
  return (
    findCondition(machine.status?.conditions, MachineConditions.UpToDate)?.message || 'a component failed'
  );
}

export function machineProgress(machine: Machine, target: string): MachineProgress {
  const desired = machine.spec?.revision;
  const converging = machine.status?.revision?.desired ?? desired;
  if (converging === target && isMachineFailed(machine)) return 'Failed';
  if (desired !== target) return 'Pending';
  return machine.status?.revision?.current === target ? 'Updated' : 'Updating';
}
