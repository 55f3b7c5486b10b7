/**
 * Progress deadline and rollback, pure. Every workload write carries the pod
 * template of the component's last Available revision in an annotation, so a
 * rollout that does not become Available within the deadline can be undone
 * from the object alone — after an operator restart too.
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1PodTemplateSpec,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { ClusterStatus } from '@kok/api';
import { ClusterConditions, PROGRESS_DEADLINE_EXCEEDED } from '@kok/api';
import type { GateRecord } from './gate-records.ts';
import { TEMPLATE_HASH_ANNOTATION, templateHashOf } from './template-hash.ts';
import { deploymentStatus, imageTag, statefulSetStatus } from './workload-status.ts';

/** On a Deployment or StatefulSet: JSON of {@link LastAvailable}. */
export const LAST_AVAILABLE_ANNOTATION = 'clusters.kok.dev/last-available-revision';
/** On a Cluster: its progress deadline in seconds, overriding the operator's. */
export const PROGRESS_DEADLINE_ANNOTATION = 'clusters.kok.dev/progress-deadline-seconds';
/** Degraded reason while a rolled-back operation holds (the ClusterRollout planner reads it too). */
export { PROGRESS_DEADLINE_EXCEEDED };

/** The last revision of a workload that was Available: its template hash and pod template. */
export interface LastAvailable {
  hash: string;
  template: V1PodTemplateSpec;
}

type Workload = V1Deployment | V1StatefulSet;

const isWorkload = (obj: KubernetesObject | undefined): obj is Workload =>
  obj?.kind === 'Deployment' || obj?.kind === 'StatefulSet';

/** The workload is Available at its own template: rolled out, generation observed, enough Ready. */
export function availableAsIs(observed: Workload): boolean {
  const tag = imageTag(observed.spec?.template.spec?.containers[0]?.image) ?? '';
  return observed.kind === 'StatefulSet'
    ? statefulSetStatus(observed as V1StatefulSet, observed as V1StatefulSet, tag.replace(/-\d+$/, ''))
        .availableAtDesired
    : deploymentStatus(observed as V1Deployment, observed as V1Deployment, tag).availableAtDesired;
}

export function lastAvailableOf(obj: KubernetesObject | undefined): LastAvailable | undefined {
  const raw = obj?.metadata?.annotations?.[LAST_AVAILABLE_ANNOTATION];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<LastAvailable>;
    return typeof parsed.hash === 'string' && parsed.template ? (parsed as LastAvailable) : undefined;
  } catch {
    return undefined;
  }
}

/** Metadata fields the apiserver fills in; not part of what a rollback writes back. */
function cleanTemplate(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const { creationTimestamp: _created, ...metadata } = (template.metadata ?? {}) as Record<string, unknown>;
  return { ...template, metadata };
}

/**
 * `desired` carrying the last Available revision: the observed object's own
 * template when it is Available as it is, else whatever the observed object
 * already carried. Objects that are not workloads pass through unchanged.
 */
export function withLastAvailable<T extends KubernetesObject>(
  desired: T,
  observed: KubernetesObject | undefined,
): T {
  if (!isWorkload(desired) || !isWorkload(observed)) return desired;
  const hash = templateHashOf(observed);
  const last: LastAvailable | undefined =
    hash && observed.spec?.template && availableAsIs(observed)
      ? { hash, template: cleanTemplate(observed.spec.template) }
      : lastAvailableOf(observed);
  if (!last) return desired;
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata?.annotations, [LAST_AVAILABLE_ANNOTATION]: JSON.stringify(last) },
    },
  };
}

/** `desired` with the last Available revision's template and hash put back; undefined when there is none. */
export function rollbackObject<T extends KubernetesObject>(
  desired: T,
  observed: KubernetesObject | undefined,
): T | undefined {
  const last = lastAvailableOf(observed);
  if (!isWorkload(desired) || !last) return undefined;
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: {
        ...desired.metadata?.annotations,
        [TEMPLATE_HASH_ANNOTATION]: last.hash,
        [LAST_AVAILABLE_ANNOTATION]: JSON.stringify(last),
      },
    },
    spec: { ...desired.spec, template: last.template },
  };
}

/** Progress deadline of a Cluster: its annotation when it is a positive number, else the operator's. */
export function progressDeadlineMs(cluster: KubernetesObject, operatorDefaultMs: number): number {
  const seconds = Number(cluster.metadata?.annotations?.[PROGRESS_DEADLINE_ANNOTATION]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : operatorDefaultMs;
}

export interface GateProgress {
  /** Gate (condition) name. */
  gate: string;
  open: boolean;
  availableAtDesired: boolean;
}

/**
 * The first gate of the ongoing operation that opened more than `deadlineMs`
 * ago and is still not Available at the desired version.
 */
export function expiredGate(
  records: readonly GateRecord[],
  gates: readonly GateProgress[],
  deadlineMs: number,
  now: Date,
): { gate: string; waitedMs: number } | undefined {
  for (const g of gates) {
    if (!g.open || g.availableAtDesired) continue;
    const record = records.find((r) => r.name === g.gate);
    if (!record || record.completedAt) continue;
    const waitedMs = now.getTime() - Date.parse(record.startedAt);
    if (waitedMs > deadlineMs) return { gate: g.gate, waitedMs };
  }
  return undefined;
}

/**
 * The reason this generation holds after a rollback: set while the Degraded
 * condition says the progress deadline passed for the generation being
 * reconciled. A new spec (generation) lifts it.
 */
export function rolledBackHold(
  status: ClusterStatus | undefined,
  generation: number,
): { reason: string; message: string } | undefined {
  const degraded = status?.conditions?.find((c) => c.type === ClusterConditions.Degraded);
  if (
    degraded?.status === 'True' &&
    degraded.reason === PROGRESS_DEADLINE_EXCEEDED &&
    degraded.observedGeneration === generation &&
    status?.observedGeneration === generation
  )
    return { reason: degraded.reason, message: degraded.message };
  return undefined;
}
