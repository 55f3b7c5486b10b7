import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './kube-client.ts';
import { PatchType } from './kube-client.ts';
import type { ResourceType } from './resource-type.ts';

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds `finalizer` to the object as `obj` shows it. The patch carries
 * obj's resourceVersion, so it fails with ConflictError if the object changed
 * since it was read (the caller requeues and sees the new state). Returns the
 * updated object, or `obj` itself when the finalizer is already there.
 */
export async function addFinalizer<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return patchFinalizers(client, type, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);
}

/** Removes `finalizer` with the same resourceVersion precondition as addFinalizer. */
export async function removeFinalizer<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return patchFinalizers(
    client,
    type,
    obj,
    (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
  );
}

function patchFinalizers<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  obj: T,
  finalizers: string[],
): Promise<T> {
  const resourceVersion = obj.metadata?.resourceVersion;
  const name = obj.metadata?.name;
  if (!resourceVersion || !name) {
    throw new Error(
      `finalizer patch on ${type.kind} needs metadata.name and metadata.resourceVersion (read it first)`,
    );
  }
  // A merge patch replaces the whole list; metadata.resourceVersion makes it conditional.
  return client.patch(type, { namespace: obj.metadata?.namespace, name }, PatchType.merge, {
    metadata: { resourceVersion, finalizers },
  });
}
