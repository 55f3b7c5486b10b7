import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';

/** A managed-fields set as the API writes it (`fieldsV1`): `f:`/`k:`/`v:`/`i:` keys down to `{}` leaves. */
type FieldSet = { [key: string]: FieldSet };

/**
 * The object's managed fields with every field `manager` holds through an `Update` entry (what its
 * create or its patches wrote) moved into its `Apply` entry, or undefined when it holds none so.
 *
 * Why: server-side apply removes a field the applier stops sending only if the applier's `Apply`
 * entry owns it. A field a create wrote belongs to the manager's `Update` entry, which no apply ever
 * releases, so a key the operator stops rendering would stay for good. Entries of another API
 * version or of a subresource are left alone: their paths cannot be merged as they are.
 */
export function managedFieldsForApply(
  entries: readonly V1ManagedFieldsEntry[] | undefined,
  manager: string,
): V1ManagedFieldsEntry[] | undefined {
  if (!entries) return undefined;
  const isOurs = (entry: V1ManagedFieldsEntry, operation: string) =>
    entry.manager === manager && entry.operation === operation && !entry.subresource;
  const applied = entries.find((entry) => isOurs(entry, 'Apply'));
  const updates = entries.filter((entry) => isOurs(entry, 'Update'));
  const owner = applied ?? updates[0];
  if (!owner) return undefined;
  const movable = updates.filter((entry) => entry.apiVersion === owner.apiVersion);
  if (movable.length === 0) return undefined;
  const fields = [owner, ...movable.filter((entry) => entry !== owner)].reduce<FieldSet>(
    (union, entry) => unionOf(union, (entry.fieldsV1 ?? {}) as FieldSet),
    {},
  );
  const merged: V1ManagedFieldsEntry = {
    ...owner,
    operation: 'Apply',
    fieldsType: 'FieldsV1',
    fieldsV1: fields,
  };
  return entries.flatMap((entry) => {
    if (entry === owner) return [merged];
    return movable.includes(entry) ? [] : [entry];
  });
}

function unionOf(a: FieldSet, b: FieldSet): FieldSet {
  const union: FieldSet = { ...a };
  for (const [key, child] of Object.entries(b)) {
    const mine = union[key];
    union[key] = mine ? unionOf(mine, child) : child;
  }
  return union;
}
