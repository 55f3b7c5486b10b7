/**
 * An object with a name the operator derives for a Cluster, but controlled by
 * something else (another Cluster, a person, a stale copy): it is neither
 * adopted nor overwritten. The Cluster is held Degraded with NameConflict,
 * naming the object, and looks again with a growing delay until it is gone.
 * Pure.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ClusterConditions, findCondition, Labels } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import { controllerOf } from '@kok/reconcile';
import { OPERATOR_NAME } from './names.ts';

export const NAME_CONFLICT = 'NameConflict';

export interface ForeignObject {
  kind: string;
  name: string;
  /** `Kind/name` of its controller, or undefined when it has none. */
  controller: string | undefined;
}

/** The live object of `kind` as a ForeignObject, unless it is absent or the Cluster with `clusterUid` controls it. */
export function foreignObjectOf(
  kind: string,
  live: KubernetesObject | undefined,
  clusterUid: string,
): ForeignObject | undefined {
  if (!live) return undefined;
  if (controllerOf(live)?.uid === clusterUid && clusterUid !== '') return undefined;
  return asForeign(kind, live);
}

/**
 * An etcd volume claim as a ForeignObject unless it is this Cluster's. The
 * StatefulSet controller makes them without an owner (they outlive the
 * StatefulSet on purpose), so they are known by the claim template's labels.
 */
export function foreignEtcdClaimOf(
  claim: KubernetesObject | undefined,
  clusterName: string,
): ForeignObject | undefined {
  if (!claim) return undefined;
  const labels = claim.metadata?.labels ?? {};
  if (labels[Labels.cluster] === clusterName && labels[Labels.managedBy] === OPERATOR_NAME) return undefined;
  return asForeign('PersistentVolumeClaim', claim);
}

function asForeign(kind: string, live: KubernetesObject): ForeignObject {
  const controller = controllerOf(live);
  return {
    kind,
    name: live.metadata?.name ?? '',
    controller: controller ? `${controller.kind}/${controller.name}` : undefined,
  };
}

export function nameConflictMessage(taken: readonly ForeignObject[], clusterUid: string): string {
  const what = taken
    .map((o) => `${o.kind} ${o.name} (${o.controller ? `controlled by ${o.controller}` : 'no controller'})`)
    .join(', ');
  return (
    `${what} ${taken.length === 1 ? 'has' : 'have'} a name this Cluster needs but ${taken.length === 1 ? 'is' : 'are'} not controlled by it (uid ${clusterUid}): ` +
    'the operator neither adopts nor overwrites them and writes nothing more for this Cluster until they are deleted or renamed'
  );
}

/** First and longest wait before looking again while a name is taken. */
export const NAME_CONFLICT_RECHECK_MIN_MS = 5_000;
export const NAME_CONFLICT_RECHECK_MAX_MS = 5 * 60_000;

/**
 * How long to wait before looking again: as long as the conflict has lasted
 * (from the Degraded condition), so the waits roughly double, within the bounds.
 * Foreign objects are mostly outside the caches, so their removal brings no event.
 */
export function nameConflictRecheckMs(status: ClusterStatus | undefined, now: Date): number {
  const degraded = findCondition(status?.conditions ?? [], ClusterConditions.Degraded);
  const since =
    degraded?.status === 'True' && degraded.reason === NAME_CONFLICT
      ? now.getTime() - Date.parse(degraded.lastTransitionTime)
      : 0;
  return Math.min(NAME_CONFLICT_RECHECK_MAX_MS, Math.max(NAME_CONFLICT_RECHECK_MIN_MS, since));
}
