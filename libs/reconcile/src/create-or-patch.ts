import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.ts';
import type { KubeClient, ObjectRef } from './kube-client.ts';
import { PatchType } from './kube-client.ts';
import { mergePatchBetween } from './merge-patch.ts';
import type { ResourceType } from './resource-type.ts';

export type OperationResult = 'created' | 'patched' | 'unchanged';

/**
 * controller-runtime's CreateOrPatch: reads the object (or starts from an
 * empty one with just the name), lets `mutate` change a copy, then creates it
 * or sends only the difference as a merge patch guarded by resourceVersion.
 */
export async function createOrPatch<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  ref: ObjectRef,
  mutate: (obj: T) => T,
): Promise<{ result: OperationResult; object: T }> {
  let current: T | undefined;
  try {
    current = await client.get(type, ref);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const base = current ?? ({ metadata: { name: ref.name, namespace: ref.namespace } } as T);
  const desired = mutate(structuredClone(base));
  if (
    desired.metadata?.name !== ref.name ||
    (desired.metadata?.namespace ?? undefined) !== (ref.namespace ?? undefined)
  ) {
    throw new Error(`createOrPatch ${type.kind} ${ref.name}: mutate must not change name or namespace`);
  }
  if (!current) return { result: 'created', object: await client.create(type, desired) };
  const patch = mergePatchBetween(current, desired);
  if (!patch) return { result: 'unchanged', object: current };
  const metadata = (patch.metadata ?? {}) as Record<string, unknown>;
  patch.metadata = { ...metadata, resourceVersion: current.metadata?.resourceVersion };
  return { result: 'patched', object: await client.patch(type, ref, PatchType.merge, patch) };
}
