import { Annotations } from '@kok/api';
import type { NodePoolSpec } from '@kok/api';
import { matchesSelector } from '@kok/rollout';
import type { V1Pod } from '@kubernetes/client-node';

export type DrainSpec = NonNullable<NodePoolSpec['drain']>;

/** Set by the kubelet on the API copy of a static pod; deleting or evicting it does nothing. */
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export interface PodNote {
  pod: V1Pod;
  why: string;
}

/** What draining a node means for each of its pods, decided without I/O. */
export interface DrainPlan {
  /** Evict these through the Eviction API (PDBs decide). */
  evict: V1Pod[];
  /** Already terminating: wait for them to go. */
  terminating: V1Pod[];
  /** Left in place and not waited for (DaemonSet, mirror, finished, not selected). */
  skipped: PodNote[];
  /** Must leave but may not be evicted by kok: the drain waits for a person. */
  blocked: PodNote[];
}

/** Sorts the pods of one node for a drain with the pool's `drain` settings (defaults as in the CRD). */
export function planDrain(pods: readonly V1Pod[], spec: DrainSpec | undefined): DrainPlan {
  const plan: DrainPlan = { evict: [], terminating: [], skipped: [], blocked: [] };
  const ignoreDaemonSets = spec?.ignoreDaemonSets ?? true;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    const isDaemonSetPod = (pod.metadata?.ownerReferences ?? []).some(
      (o) => o.kind === 'DaemonSet' && o.controller,
    );
    if (phase === 'Succeeded' || phase === 'Failed') {
      plan.skipped.push({ pod, why: `finished (${phase})` });
    } else if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
      plan.skipped.push({ pod, why: 'mirror pod of a static pod' });
    } else if (spec?.podSelector && !matchesSelector(pod.metadata?.labels ?? {}, spec.podSelector)) {
      plan.skipped.push({ pod, why: 'not selected by drain.podSelector' });
    } else if (isDaemonSetPod && ignoreDaemonSets) {
      plan.skipped.push({ pod, why: 'DaemonSet pod' });
    } else if (pod.metadata?.deletionTimestamp) {
      plan.terminating.push(pod);
    } else if (isDaemonSetPod) {
      plan.blocked.push({
        pod,
        why: 'DaemonSet pod and drain.ignoreDaemonSets is false; its controller would recreate it',
      });
    } else if (pod.metadata?.annotations?.[Annotations.excludeFromDrain] !== undefined) {
      plan.blocked.push({ pod, why: `annotated ${Annotations.excludeFromDrain}` });
    } else if (!spec?.deleteEmptyDirData && (pod.spec?.volumes ?? []).some((v) => v.emptyDir)) {
      plan.blocked.push({ pod, why: 'has emptyDir data; set drain.deleteEmptyDirData to evict it' });
    } else {
      plan.evict.push(pod);
    }
  }
  return plan;
}

export function isDrainComplete(plan: DrainPlan): boolean {
  return plan.evict.length === 0 && plan.terminating.length === 0 && plan.blocked.length === 0;
}

export const podName = (pod: V1Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** The apiserver's words for a PodDisruptionBudget in a refused eviction (policy/v1 DisruptionBudget cause). */
const BUDGET_IN_CAUSE = /^The disruption budget (\S+) /;

/**
 * `namespace/name` of the PodDisruptionBudget that refused an eviction (HTTP 429), read from the
 * status the apiserver sent: it names the budget in a cause ("The disruption budget db needs 2
 * healthy pods and has 2 currently"); a budget lives in its pod's namespace. Undefined when no cause
 * names one.
 */
export function refusingDisruptionBudget(
  causes: readonly { message?: string }[] | undefined,
  podNamespace: string,
): string | undefined {
  for (const cause of causes ?? []) {
    const name = BUDGET_IN_CAUSE.exec(cause.message ?? '')?.[1];
    if (name) return `${podNamespace}/${name}`;
  }
  return undefined;
}
