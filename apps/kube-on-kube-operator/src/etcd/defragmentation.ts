/**
 * One pass of etcd defragmentation for a Cluster: from this pass's read of
 * etcd and the membership step, the planner (defragmentation-plan.ts) names at
 * most one member; it is defragmented through its own pod (a defragmentation
 * acts on the member it is sent to), with an Event and the metrics. When each
 * member was last defragmented is kept for the operator's life: after a
 * restart a member may be defragmented once more, which costs a pause, not
 * data.
 */
import type { EventRecorder } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { ClusterMetrics } from '../metrics.ts';
import type { ClusterObject } from '../resource-types.ts';
import type { DefragmentationStep } from './defragmentation-plan.ts';
import { defragmentationPolicyOf, planDefragmentation } from './defragmentation-plan.ts';
import type { EtcdClientTls, EtcdTarget, MemberApi } from './member-api.ts';
import { memberApi } from './member-api.ts';
import type { EtcdObservation } from './member-observation.ts';
import type { MembershipStep } from './membership-plan.ts';

/** Per Cluster (by uid): the member being defragmented, and when each member last was. */
export class EtcdDefragmentations {
  readonly #inFlight = new Map<string, string>();
  readonly #last = new Map<string, Map<string, number>>();

  inFlight(cluster: string): string | undefined {
    return this.#inFlight.get(cluster);
  }

  lastDefragmentedAt(cluster: string): ReadonlyMap<string, number> {
    return this.#last.get(cluster) ?? new Map();
  }

  started(cluster: string, member: string): void {
    this.#inFlight.set(cluster, member);
  }

  finished(cluster: string, member: string, at: number): void {
    this.#inFlight.delete(cluster);
    const last = this.#last.get(cluster) ?? new Map<string, number>();
    last.set(member, at);
    this.#last.set(cluster, last);
  }

  forget(cluster: string): void {
    this.#inFlight.delete(cluster);
    this.#last.delete(cluster);
  }
}

export interface DefragmentationDeps {
  defragmentations: EtcdDefragmentations;
  events: EventRecorder | undefined;
  metrics: ClusterMetrics | undefined;
  log: Logger;
  /** Default: the member API over HTTPS. */
  api?: (target: EtcdTarget, tls: EtcdClientTls) => MemberApi;
  /** Default: the monotonic clock; measures how long a defragmentation took. */
  elapsedMs?: () => number;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Plans and takes this pass's defragmentation; returns the step (a failed one is still the step taken). */
export async function defragmentEtcd(
  deps: DefragmentationDeps,
  cluster: ClusterObject,
  observation: EtcdObservation,
  membershipStep: MembershipStep,
  tls: EtcdClientTls,
  at: Date,
): Promise<DefragmentationStep> {
  const { defragmentations, events, metrics, log } = deps;
  const key = cluster.metadata.uid ?? '';
  const inFlight = defragmentations.inFlight(key);
  const step = planDefragmentation(
    {
      members: observation.members,
      ...(observation.leader ? { leader: observation.leader } : {}),
      membershipSettled: membershipStep.kind === 'none',
      ...(inFlight ? { inFlight } : {}),
      lastDefragmentedAt: defragmentations.lastDefragmentedAt(key),
      now: at.getTime(),
    },
    defragmentationPolicyOf(cluster.spec),
  );
  if (step.kind !== 'defragment') return step;
  const target = observation.pods.find((pod) => pod.name === step.member)?.target;
  if (!target) return { kind: 'none' };
  const elapsed = deps.elapsedMs ?? (() => performance.now());
  const labels = { namespace: cluster.metadata.namespace ?? '', cluster: cluster.metadata.name ?? '' };
  const role = step.member === observation.leader ? 'the leader' : 'a follower';
  defragmentations.started(key, step.member);
  const start = elapsed();
  try {
    await (deps.api ?? memberApi)(target, tls).defragment();
    const seconds = (elapsed() - start) / 1000;
    metrics?.etcdDefragmentations.inc({ ...labels, result: 'succeeded' });
    metrics?.etcdDefragmentationDuration.set(labels, seconds);
    const message = `defragmented etcd member ${step.member} (${role}): ${mib(step.freeBytes)} free of ${mib(step.dbSizeBytes)} given back, in ${seconds.toFixed(1)} s`;
    log.info({ member: step.member, seconds }, message);
    await events?.record(cluster, 'Normal', 'EtcdDefragmented', 'EtcdDefragmentation', message);
  } catch (error) {
    metrics?.etcdDefragmentations.inc({ ...labels, result: 'failed' });
    const message = `defragmenting etcd member ${step.member} (${role}) failed: ${(error as Error).message}; tried again after the minimum interval`;
    log.warn({ member: step.member }, message);
    await events?.record(cluster, 'Warning', 'EtcdDefragmentationFailed', 'EtcdDefragmentation', message);
  } finally {
    // A failed one counts too: a member that cannot be defragmented is not asked again every pass.
    defragmentations.finished(key, step.member, at.getTime());
  }
  return step;
}
