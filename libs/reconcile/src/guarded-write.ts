import type { KubernetesObject } from '@kubernetes/client-node';
import { managedFieldsForApply } from './apply-ownership.ts';
import type { KubeClient } from './kube-client.ts';
import { PatchType } from './kube-client.ts';
import type { ResourceType } from './resource-type.ts';

/**
 * Writes what a controller decided from its cache: creates `desired` when the cache had no object
 * (failing with AlreadyExists if it exists after all), else server-side applies it guarded by the
 * resourceVersion the decision was made on (failing with Conflict if it changed). So an outdated
 * cache never overwrites fresh material, such as a CA made a moment ago.
 *
 * Fields the create wrote are then handed to the client's `Apply` entry, so a later apply that
 * leaves a field out removes it. An object written before this (its fields still in an `Update`
 * entry) is handed over on its next apply, which is then sent again to drop what it left out.
 */
export async function createOrApplyGuarded<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  desired: T,
  observed: KubernetesObject | undefined,
): Promise<T> {
  if (!observed) {
    const created = await client.create(type, desired);
    return (await handOverToApply(client, type, created)) ?? created;
  }
  const apply = (resourceVersion: string | undefined) =>
    client.apply(type, { ...desired, metadata: { ...desired.metadata, resourceVersion } });
  const applied = await apply(observed.metadata?.resourceVersion);
  const handedOver = await handOverToApply(client, type, applied);
  return handedOver ? apply(handedOver.metadata?.resourceVersion) : applied;
}

/** Moves the client's `Update`-owned fields of `written` into its `Apply` entry; undefined when there were none. */
async function handOverToApply<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  written: T,
): Promise<T | undefined> {
  const managedFields = managedFieldsForApply(written.metadata?.managedFields, client.fieldManager);
  if (!managedFields) return undefined;
  const { namespace, name = '', resourceVersion } = written.metadata ?? {};
  // Guarded like the write itself: if the object changed since, the next pass hands it over.
  return client.patch(type, { namespace, name }, PatchType.json, [
    { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
    { op: 'replace', path: '/metadata/managedFields', value: managedFields },
  ]);
}
