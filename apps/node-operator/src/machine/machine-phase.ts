/**
 * Machine.status.phase: the one word `kubectl get machines` shows, from the
 * conditions controllers act on. Pure. The first that holds wins: a machine
 * its pool's rollout counts failed (RolloutFailed, Failed), an agent that
 * never reported (Pending) or stopped reporting (Unknown), a failed
 * component (Failed), a remediation, a drain (a rollout's or a leaving host's),
 * an update, then Ready once the Node is healthy.
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Condition, Machine, MACHINE_PHASES } from '@kok/api';
import { OperatorAnnotations } from '../shared/resources.ts';

export type MachinePhase = (typeof MACHINE_PHASES)[number];

export function machinePhase(machine: Machine, nodeHealthy: Pick<Condition, 'status'>): MachinePhase {
  const conditions = machine.status?.conditions;
  const isTrue = (type: string) => findCondition(conditions, type)?.status === 'True';
  // The rollout's verdict stands whatever the agent says: a host whose agent cannot report is the usual case.
  if (isTrue(MachineConditions.RolloutFailed)) return 'Failed';
  const agentReady = findCondition(conditions, MachineConditions.AgentReady);
  if (!agentReady) return 'Pending';
  if (agentReady.status !== 'True') return 'Unknown';
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  if (
    (machine.status?.components ?? []).some((c) => c.state === 'Failed') ||
    (upToDate?.status === 'False' && upToDate.reason === 'ComponentFailed')
  )
    return 'Failed';
  if (isTrue(MachineConditions.Remediating)) return 'Remediating';
  const annotations = machine.metadata?.annotations ?? {};
  const rolloutDrain =
    annotations[OperatorAnnotations.drainStartedAt] !== undefined &&
    annotations[OperatorAnnotations.drained] === undefined;
  if (rolloutDrain || machine.metadata?.deletionTimestamp !== undefined) return 'Draining';
  const revision = machine.spec?.revision;
  if (
    isTrue(MachineConditions.Updating) ||
    (revision !== undefined && machine.status?.revision?.current !== revision)
  )
    return 'Updating';
  if (nodeHealthy.status === 'True') return 'Ready';
  return machine.status?.nodeRef ? 'Unknown' : 'Pending';
}
