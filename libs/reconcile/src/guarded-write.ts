import type { KubernetesObject } from '@kubernetes/client-node';
import { managedFieldsForApply } from './apply-ownership.ts';
import { InvalidError } from './api-errors.ts';
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
 * The handover is only ever extra: the write itself has succeeded when it runs, so losing it to
 * other writers fails nothing (the next apply hands over again).
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

/** How often a handover lost to another writer (the object changed in between) is tried again on a fresh read. */
const HANDOVER_ATTEMPTS = 5;

/**
 * Moves the client's `Update`-owned fields of `written` into its `Apply` entry; undefined when there were
 * none, or when other writers kept changing the object (then the next apply tries again).
 */
async function handOverToApply<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  written: T,
): Promise<T | undefined> {
  const { namespace, name = '' } = written.metadata ?? {};
  let current = written;
  for (let attempt = 0; attempt < HANDOVER_ATTEMPTS; attempt++) {
    const managedFields = managedFieldsForApply(current.metadata?.managedFields, client.fieldManager);
    if (!managedFields) return attempt === 0 ? undefined : current;
    try {
      // Guarded: the entries are replaced whole, so another writer's change in between must not be lost.
      return await client.patch(type, { namespace, name }, PatchType.json, [
        { op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion },
        { op: 'replace', path: '/metadata/managedFields', value: managedFields },
      ]);
    } catch (error) {
      // A failed test is 422 Invalid: the object changed (a controller wrote its status); read it again.
      if (!(error instanceof InvalidError)) throw error;
      current = await client.get(type, { namespace, name });
    }
  }
  return undefined;
}
