/**
 * The next single change to a Cluster's etcd membership, toward
 * spec.etcd.replicas members named `<cluster>-etcd-<ordinal>` for ordinals
 * 0…replicas-1. One change at a time, each of them one the cluster survives:
 * a member joins as a learner (it does not vote, so it cannot cost quorum
 * while it catches up) and is promoted once it answers; nothing is added while
 * a learner waits or a voter is unhealthy; a voter is removed only if the
 * healthy voters left still make a quorum of the voters left. A member whose
 * volume is no longer the one it was recorded on has lost its data: it is
 * removed (and then added again, as any missing member is). Pure.
 */

export interface MemberState {
  ordinal: number;
  /** Decimal uint64. */
  id: string;
  isLearner: boolean;
  /** It answered for itself, under this id, without errors. */
  healthy: boolean;
  /**
   * Its volume is not the one it held data on: the claim is gone, or is not
   * marked with this member's id (made anew after the old one was deleted).
   */
  dataLost: boolean;
}

/** A member volume claim and the member it was marked as holding the data of. */
export interface ClaimState {
  ordinal: number;
  /** Absent: the claim never held a member's data. */
  memberId?: string;
}

export interface MembershipInputs {
  /** The members as etcd lists them. */
  members: readonly MemberState[];
  /** The member volume claims that exist (not being deleted). */
  claims: readonly ClaimState[];
  /** The members that raised a CORRUPT alarm still raised. */
  corrupt?: readonly string[];
}

export type MembershipStep =
  /** Add member `ordinal` as a learner; its pod then joins with the current members. */
  | { kind: 'addLearner'; ordinal: number }
  | { kind: 'promote'; ordinal: number; id: string }
  /** Remove a member beyond spec.etcd.replicas (or a learner no longer wanted). */
  | { kind: 'remove'; ordinal: number; id: string }
  /** Remove a member whose data is gone, and its volume and pod: it is added again afresh. */
  | { kind: 'replace'; ordinal: number; id: string }
  /** The volume of a member that was removed: its data must not come back under a new member. */
  | { kind: 'deleteClaim'; ordinal: number }
  | { kind: 'wait'; reason: MembershipWaitReason; message: string }
  | { kind: 'none' };

/** Why the next change waits: the reason of the Cluster's EtcdMembership condition. */
export type MembershipWaitReason =
  | 'CorruptAlarm'
  | 'LearnerCatchingUp'
  | 'LostMemberRemovalWouldLoseQuorum'
  | 'RemovalWouldLoseQuorum'
  | 'MemberUnhealthy';

/** Votes a cluster of `voters` needs to commit. */
export const quorumOf = (voters: number): number => Math.floor(voters / 2) + 1;

/** Whether removing `member` leaves enough healthy voters to commit among the voters left. */
export function canRemoveKeepingQuorum(members: readonly MemberState[], member: MemberState): boolean {
  if (member.isLearner) return true;
  const voters = members.filter((m) => !m.isLearner);
  const left = voters.filter((m) => m.ordinal !== member.ordinal);
  return left.length > 0 && left.filter((m) => m.healthy).length >= quorumOf(left.length);
}

export function planEtcdMembership(inputs: MembershipInputs, desiredReplicas: number): MembershipStep {
  const { members, claims } = inputs;
  // Every member lists a raised CORRUPT alarm among its errors, so none counts as healthy: say why, not that
  // members do not answer. The way out is a person's (find the member, delete its claim, disarm).
  if (inputs.corrupt && inputs.corrupt.length > 0)
    return {
      kind: 'wait',
      reason: 'CorruptAlarm',
      message: `etcd ${[...new Set(inputs.corrupt)].sort().join(', ')} raised CORRUPT; no member is added, promoted, removed or replaced until the alarm is disarmed`,
    };
  const byOrdinalDesc = [...members].sort((a, b) => b.ordinal - a.ordinal);
  const learners = byOrdinalDesc.filter((m) => m.isLearner);
  const voters = byOrdinalDesc.filter((m) => !m.isLearner);

  // A learner not wanted any more (scaled down while it joined) goes first: it holds up every other change.
  const unwantedLearner = learners.find((m) => m.ordinal >= desiredReplicas);
  if (unwantedLearner) return { kind: 'remove', ordinal: unwantedLearner.ordinal, id: unwantedLearner.id };
  const learner = learners[0];
  if (learner) {
    if (learner.healthy) return { kind: 'promote', ordinal: learner.ordinal, id: learner.id };
    return {
      kind: 'wait',
      reason: 'LearnerCatchingUp',
      message: `learner ${learner.ordinal} does not answer yet (it starts and catches up with the leader's log); it is promoted once it does`,
    };
  }

  const lost = voters.find((m) => m.dataLost && !m.healthy);
  if (lost) {
    if (canRemoveKeepingQuorum(members, lost)) return { kind: 'replace', ordinal: lost.ordinal, id: lost.id };
    return {
      kind: 'wait',
      reason: 'LostMemberRemovalWouldLoseQuorum',
      message: `member ${lost.ordinal} lost its data, but removing it would leave too few healthy voters for quorum; bring the other unhealthy members back first`,
    };
  }

  // A volume that held a member's data, of no member now: deleted before its ordinal is used again.
  const listed = new Set(members.map((m) => m.ordinal));
  const stale = claims.find(
    (c) => !listed.has(c.ordinal) && (c.memberId !== undefined || c.ordinal >= desiredReplicas),
  );
  if (stale) return { kind: 'deleteClaim', ordinal: stale.ordinal };

  const unhealthy = voters.find((m) => !m.healthy);
  const surplus =
    voters.find((m) => m.ordinal >= desiredReplicas) ??
    (voters.length > desiredReplicas ? voters[0] : undefined);
  if (surplus && canRemoveKeepingQuorum(members, surplus))
    return { kind: 'remove', ordinal: surplus.ordinal, id: surplus.id };
  const missing = Array.from({ length: desiredReplicas }, (_, i) => i).find((i) => !listed.has(i));
  // A surplus member that cannot go yet (the only one, say) waits for the wanted ones to join first.
  const wantsMember = missing !== undefined && (voters.length < desiredReplicas || surplus !== undefined);
  if (wantsMember && !unhealthy) return { kind: 'addLearner', ordinal: missing };
  if (surplus)
    return {
      kind: 'wait',
      reason: 'RemovalWouldLoseQuorum',
      message: `removing member ${surplus.ordinal} would leave too few healthy voters for quorum; it is removed once the others answer`,
    };
  if (unhealthy)
    return {
      kind: 'wait',
      reason: 'MemberUnhealthy',
      message: `member ${unhealthy.ordinal} does not answer for itself; no member is added until it does`,
    };
  return { kind: 'none' };
}

/** What a member starting without data reads (etcd's ETCD_INITIAL_CLUSTER and ETCD_INITIAL_CLUSTER_STATE). */
export interface JoinConfig {
  state: 'new' | 'existing';
  /** Absent: no member is expected to start without data, and one that does fails instead of joining. */
  initialCluster?: string;
}

/**
 * Bootstrapping (etcd never had quorum, none is listed): every wanted member, `new`. A learner
 * that has not started yet: the members as listed (the learner among them), `existing`. Else
 * nothing to join: a member whose data is gone finds no peers and stops, until it is replaced.
 */
export function joinConfigOf(
  members: readonly { name: string; peerURL: string; started: boolean }[] | undefined,
  bootstrap: readonly { name: string; peerURL: string }[] | undefined,
): JoinConfig {
  const list = (ms: readonly { name: string; peerURL: string }[]) =>
    ms.map((m) => `${m.name}=${m.peerURL}`).join(',');
  if (bootstrap) return { state: 'new', initialCluster: list(bootstrap) };
  if (members?.some((m) => !m.started)) return { state: 'existing', initialCluster: list(members) };
  return { state: 'existing' };
}

/** The etcd StatefulSet's size and the join Secret's content (components/etcd.ts). */
export interface EtcdMembership {
  replicas: number;
  join: JoinConfig;
}
