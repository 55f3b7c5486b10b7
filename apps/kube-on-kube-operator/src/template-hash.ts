/**
 * The template hash: what decides whether a managed object is rewritten.
 * It covers a deliberate template version and the inputs a component reads
 * from the Cluster (and its Secrets' content), never the rendered output, so
 * upgrading the operator does not roll every control plane; bumping a
 * component's templateVersion does.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { canonicalJson } from '@kok/reconcile';

export const TEMPLATE_HASH_ANNOTATION = 'clusters.kok.dev/template-hash';

/** sha256 of JSON with sorted object keys, 16 hex digits. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export function templateHashOf(obj: KubernetesObject | undefined): string | undefined {
  return obj?.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION];
}

/** A copy of `obj` carrying `hash` in its annotations. */
export function withTemplateHash<T extends KubernetesObject>(obj: T, hash: string): T {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...obj.metadata?.annotations, [TEMPLATE_HASH_ANNOTATION]: hash },
    },
  };
}

/** True when the object is missing or was written from other inputs than `desired`. */
export function templateHashDiffers(
  observed: KubernetesObject | undefined,
  desired: KubernetesObject,
): boolean {
  return observed === undefined || templateHashOf(observed) !== templateHashOf(desired);
}
