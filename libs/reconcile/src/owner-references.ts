import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';

/** An owner reference to `owner` marking it as the controller (what controller-runtime's SetControllerReference writes). */
export function controllerReference(owner: KubernetesObject): V1OwnerReference {
  const { apiVersion, kind } = owner;
  const { name, uid } = owner.metadata ?? {};
  if (!apiVersion || !kind || !name || !uid) {
    throw new Error(
      `owner ${kind ?? '?'}/${name ?? '?'} needs apiVersion, kind, metadata.name and metadata.uid`,
    );
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The controller among obj's owner references, if any. */
export function controllerOf(obj: KubernetesObject): V1OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller);
}

/**
 * A copy of `owned` controlled by `owner`. Throws if another object already
 * controls it: two controllers fighting over one object must be a loud error.
 */
export function withControllerReference<T extends KubernetesObject>(owned: T, owner: KubernetesObject): T {
  const ref = controllerReference(owner);
  const existing = controllerOf(owned);
  if (existing && existing.uid !== ref.uid) {
    throw new Error(
      `${owned.kind ?? 'object'} ${owned.metadata?.name} is already controlled by ${existing.kind} ${existing.name} (uid ${existing.uid}); refusing to make ${ref.kind} ${ref.name} its controller`,
    );
  }
  const others = (owned.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...owned, metadata: { ...owned.metadata, ownerReferences: [...others, ref] } };
}
