/**
 * The Cluster conditions that say what etcd itself reports: EtcdAlarm (an
 * alarm raised in etcd, which the operator never disarms) and EtcdMembership
 * (whether the next membership change waits, and why). Both follow this
 * pass's read of etcd; without one they stay as they were. Pure.
 */
import { ClusterConditions, findCondition, setCondition } from '@kok/api';
import type { Condition } from '@kok/api';
import type { EtcdObservation } from './member-observation.ts';
import type { MembershipStep } from './membership-plan.ts';

const list = (names: readonly string[]) => [...new Set(names)].sort().join(', ');

/** What to do about each alarm: etcd keeps it raised until someone disarms it. */
const ALARM_ADVICE: Record<string, string> = {
  NOSPACE:
    'the database reached its quota (--quota-backend-bytes) and etcd refuses writes. Free space (compact, then defragment: the operator defragments members whose free space passes spec.etcd.defragmentation) or raise the quota, then run `etcdctl alarm disarm`; the operator never disarms an alarm',
  CORRUPT:
    "a member's data differs from the others'. Find the member with `etcdctl endpoint hashkv`, delete its volume claim and its pod, then run `etcdctl alarm disarm`: the operator changes no membership while the alarm is raised, and replaces that member once it is disarmed; the operator never disarms an alarm",
};

function alarmCondition(
  observation: EtcdObservation,
  generation: number,
): Omit<Condition, 'lastTransitionTime'> {
  const raised = observation.alarms.filter((a) => a.alarm !== 'NONE');
  if (raised.length === 0)
    return {
      type: ClusterConditions.EtcdAlarm,
      status: 'False',
      reason: 'NoAlarm',
      message: 'etcd has no alarm raised',
      observedGeneration: generation,
    };
  // CORRUPT first: it is the one that loses data.
  const kinds = [...new Set(raised.map((a) => a.alarm))].sort((a, b) =>
    a === 'CORRUPT' ? -1 : b === 'CORRUPT' ? 1 : a.localeCompare(b),
  );
  const message = kinds
    .map((kind) => {
      const members = list(raised.filter((a) => a.alarm === kind).map((a) => a.member));
      return `etcd ${members} raised ${kind}: ${ALARM_ADVICE[kind] ?? 'see the etcd documentation, then run `etcdctl alarm disarm`'}.`;
    })
    .join(' ');
  return {
    type: ClusterConditions.EtcdAlarm,
    status: 'True',
    reason: kinds[0] ?? 'Alarm',
    message,
    observedGeneration: generation,
  };
}

function describeStep(step: Exclude<MembershipStep, { kind: 'wait' } | { kind: 'none' }>): string {
  switch (step.kind) {
    case 'addLearner':
      return `adding member ${step.ordinal} as a learner`;
    case 'promote':
      return `promoting learner ${step.ordinal}`;
    case 'remove':
      return `removing member ${step.ordinal}`;
    case 'replace':
      return `replacing member ${step.ordinal}, whose data is gone`;
    case 'deleteClaim':
      return `deleting the volume of removed member ${step.ordinal}`;
  }
}

function membershipCondition(
  step: MembershipStep,
  generation: number,
): Omit<Condition, 'lastTransitionTime'> {
  const type = ClusterConditions.EtcdMembership;
  if (step.kind === 'wait')
    return {
      type,
      status: 'False',
      reason: step.reason,
      message: `The next etcd membership change waits: ${step.message}.`,
      observedGeneration: generation,
    };
  if (step.kind === 'none')
    return {
      type,
      status: 'True',
      reason: 'AsDesired',
      message: 'etcd has the members spec.etcd.replicas asks for, all voting',
      observedGeneration: generation,
    };
  return {
    type,
    status: 'True',
    reason: 'Changing',
    message: `etcd membership moves toward spec.etcd.replicas, one change at a time: ${describeStep(step)}`,
    observedGeneration: generation,
  };
}

/** The conditions with EtcdAlarm and EtcdMembership from this pass's read of etcd and membership step. */
export function withEtcdConditions(
  conditions: Condition[] | undefined,
  observation: EtcdObservation | undefined,
  step: MembershipStep | undefined,
  generation: number,
  at: Date,
): Condition[] | undefined {
  let next = conditions;
  if (observation) next = setCondition(next, alarmCondition(observation, generation), at);
  if (step) next = setCondition(next, membershipCondition(step, generation), at);
  return next;
}

/** The EtcdAlarm condition when it has just been raised, or names another alarm than before: an Event is due. */
export function newlyRaisedAlarm(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[] | undefined,
): Condition | undefined {
  const now = findCondition(next, ClusterConditions.EtcdAlarm);
  if (now?.status !== 'True') return undefined;
  const before = findCondition(previous, ClusterConditions.EtcdAlarm);
  return before?.status === 'True' && before.message === now.message ? undefined : now;
}
