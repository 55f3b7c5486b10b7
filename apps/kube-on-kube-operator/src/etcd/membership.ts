/**
 * One pass over a Cluster's etcd membership: from this pass's read of etcd
 * (member-observation.ts), mark the volume of each member that answered with
 * its id, take the planner's one step (membership-plan.ts) through the member
 * API, read etcd again after a change, and say what the StatefulSet and the
 * join Secret are to be (components/etcd.ts). Without a read of etcd nothing
 * changes: a bootstrap renders every wanted member, a running cluster keeps
 * its size.
 */
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import { builtinTypes, isNotFound, PatchType } from '@kok/reconcile';
import type { Logger } from 'pino';
import { ETCD_PEER_PORT } from '../components/services.ts';
import type { ClusterNames } from '../names.ts';
import type { ClusterObject } from '../resource-types.ts';
import { persistentVolumeClaimType } from '../resource-types.ts';
import { memberApi } from './member-api.ts';
import type { EtcdClientTls, MemberApi, EtcdTarget } from './member-api.ts';
import type { EtcdObservation, EtcdObserver } from './member-observation.ts';
import { ETCD_MEMBER_ID_ANNOTATION, memberChangeTarget, ordinalOf } from './member-observation.ts';
import type { EtcdMembership, MembershipInputs, MembershipStep, MemberState } from './membership-plan.ts';
import { joinConfigOf, planEtcdMembership } from './membership-plan.ts';

/** The planner's inputs from a read of etcd: members by ordinal, a started member off its marked volume has lost its data. */
export function membershipInputsOf(observation: EtcdObservation, names: ClusterNames): MembershipInputs {
  const claimOf = new Map(observation.claims.map((c) => [c.ordinal, c]));
  const members = observation.members.flatMap((m): MemberState[] => {
    const ordinal = ordinalOf(m.name, names.etcd);
    if (ordinal === undefined) return [];
    const claim = claimOf.get(ordinal);
    // A member that answers is on its data (its volume is marked now if it was not); one that does not is
    // on another volume when its own was deleted and made anew.
    const dataLost = m.started && !m.healthy && claim?.memberId !== m.id;
    return [{ ordinal, id: m.id, isLearner: m.isLearner, healthy: m.healthy, dataLost }];
  });
  const corrupt = observation.alarms.filter((a) => a.alarm === 'CORRUPT').map((a) => a.member);
  return { members, claims: observation.claims, ...(corrupt.length > 0 ? { corrupt } : {}) };
}

/** The StatefulSet's size and the join Secret from a read of etcd: up to the highest member listed. */
export function membershipOf(observation: EtcdObservation, names: ClusterNames): EtcdMembership | undefined {
  const ordinals = observation.members.flatMap((m) => ordinalOf(m.name, names.etcd) ?? []);
  if (ordinals.length === 0) return undefined;
  return { replicas: Math.max(...ordinals) + 1, join: joinConfigOf(observation.members, undefined) };
}

export interface MembershipDeps {
  client: KubeClient;
  observer: EtcdObserver;
  events: EventRecorder | undefined;
  log: Logger;
  /** Default: the member API over HTTPS. */
  api?: (target: EtcdTarget, tls: EtcdClientTls) => MemberApi;
}

export interface MembershipPass {
  step: MembershipStep;
  /** The read of etcd after the step (the status reports it). */
  observation: EtcdObservation;
  /** What to render; undefined: as without a read. */
  membership: EtcdMembership | undefined;
  /**
   * A pod already there for the member just added (one replaced in place, failing to start without
   * peers): deleted once the join Secret is written, so that it starts again reading it.
   */
  restartPod?: string;
}

export async function reconcileEtcdMembership(
  deps: MembershipDeps,
  cluster: ClusterObject,
  names: ClusterNames,
  desiredReplicas: number,
  observation: EtcdObservation,
  tls: EtcdClientTls,
  at: Date,
): Promise<MembershipPass> {
  const { client, log } = deps;
  await markVolumes(client, names, observation);
  const step = planEtcdMembership(membershipInputsOf(observation, names), desiredReplicas);
  const joiningPod = step.kind === 'addLearner' ? `${names.etcd}-${step.ordinal}` : undefined;
  const podThere =
    joiningPod !== undefined &&
    (await client.get(builtinTypes.pod, { namespace: names.namespace, name: joiningPod }).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    ));
  const changed = await takeStep(deps, cluster, names, observation, tls, step);
  if (step.kind === 'wait') log.info({ reason: step.reason }, `etcd membership waits: ${step.message}`);
  let after = observation;
  if (changed) {
    deps.observer.forget(cluster.metadata.uid ?? '');
    after = (await deps.observer.observe(cluster.metadata.uid ?? '', names, tls, at)) ?? observation;
  }
  return {
    step,
    observation: after,
    membership: membershipOf(after, names),
    ...(changed && podThere && joiningPod ? { restartPod: joiningPod } : {}),
  };
}

/** Marks the volume of each member that answered with the member's id: the sign that it holds that member's data. */
async function markVolumes(client: KubeClient, names: ClusterNames, observation: EtcdObservation) {
  for (const member of observation.members) {
    const ordinal = ordinalOf(member.name, names.etcd);
    const claim = observation.claims.find((c) => c.ordinal === ordinal);
    if (!member.healthy || !claim || claim.memberId === member.id) continue;
    // A claim deleted since it was read is left unmarked: its member then counts as having lost its data.
    const marked = await client
      .patch(persistentVolumeClaimType, { namespace: names.namespace, name: claim.name }, PatchType.merge, {
        metadata: { annotations: { [ETCD_MEMBER_ID_ANNOTATION]: member.id } },
      })
      .then(
        () => true,
        (error: unknown) => {
          ignoreNotFound(error);
          return false;
        },
      );
    if (marked) claim.memberId = member.id;
  }
}

/** Takes the step; true when etcd's membership changed. A refused change (a learner not yet in sync) is tried next pass. */
async function takeStep(
  deps: MembershipDeps,
  cluster: ClusterObject,
  names: ClusterNames,
  observation: EtcdObservation,
  tls: EtcdClientTls,
  step: MembershipStep,
): Promise<boolean> {
  const { client, events, log } = deps;
  const member = (ordinal: number) => `${names.etcd}-${ordinal}`;
  const record = (reason: string, message: string) => {
    log.info({ reason }, message);
    return events?.record(cluster, 'Normal', reason, 'EtcdMembership', message);
  };
  if (step.kind === 'deleteClaim') {
    const claim = names.etcdClaim(step.ordinal);
    await client
      .delete(persistentVolumeClaimType, { namespace: names.namespace, name: claim })
      .catch(ignoreNotFound);
    // Not a member: a pod still on the volume (the StatefulSet not shrunk past it) goes too, and comes back on a new one.
    await client
      .delete(builtinTypes.pod, { namespace: names.namespace, name: member(step.ordinal) })
      .catch(ignoreNotFound);
    await record(
      'EtcdVolumeDeleted',
      `deleted ${claim}, the volume of removed etcd member ${member(step.ordinal)}`,
    );
    return false;
  }
  if (step.kind === 'wait' || step.kind === 'none') return false;
  const target = memberChangeTarget(observation)?.target;
  if (!target) return false;
  const api = (deps.api ?? memberApi)(target, tls);
  try {
    switch (step.kind) {
      case 'addLearner': {
        const peerURL = `https://${names.etcdMemberHost(step.ordinal)}:${ETCD_PEER_PORT}`;
        await api.addLearner(peerURL);
        await record('EtcdMemberAdded', `added ${member(step.ordinal)} as a learner at ${peerURL}`);
        return true;
      }
      case 'promote':
        await api.promote(step.id);
        await record('EtcdMemberPromoted', `promoted learner ${member(step.ordinal)} to a voting member`);
        return true;
      case 'remove':
        await api.remove(step.id);
        await record(
          'EtcdMemberRemoved',
          `removed ${member(step.ordinal)} (spec.etcd.replicas ${cluster.spec.etcd?.replicas ?? 3})`,
        );
        return true;
      case 'replace':
        await api.remove(step.id);
        await record(
          'EtcdMemberReplaced',
          `removed ${member(step.ordinal)}: its volume is not the one it held its data on; it is added again afresh`,
        );
        return true;
    }
  } catch (error) {
    log.info({ step, error: (error as Error).message }, 'etcd member change refused; tried again next pass');
    return false;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}

/** After the join Secret was written: the pass's pod to start again, if any (MembershipPass.restartPod). */
export async function restartJoiningPod(client: KubeClient, names: ClusterNames, pass: MembershipPass) {
  if (!pass.restartPod) return;
  await client
    .delete(builtinTypes.pod, { namespace: names.namespace, name: pass.restartPod })
    .catch(ignoreNotFound);
}
