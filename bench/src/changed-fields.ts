// Which fields one write changed, from two consecutive versions of an object as a watch delivers them.

/** Fields that change on every write, whatever was written. */
const ALWAYS_CHANGES = new Set(['metadata.resourceVersion', 'metadata.managedFields']);

/**
 * The paths of the leaves that differ between `before` and `after`, sorted. List items keep their identity
 * by `type` (conditions) or `name` (components, files) where every item has one, so that a condition that
 * moved in its list reads as unchanged: `status.conditions[AgentReady].lastTransitionTime`. A field added
 * or removed is a change of its own path. Pure.
 */
export function changedFields(before: unknown, after: unknown): string[] {
  const changed: string[] = [];
  walk(before, after, '', changed);
  return changed.filter((path) => !ALWAYS_CHANGES.has(path)).sort();
}

function walk(before: unknown, after: unknown, path: string, changed: string[]): void {
  if (ALWAYS_CHANGES.has(path)) return;
  if (Array.isArray(before) && Array.isArray(after)) {
    const key = itemKey(before) && itemKey(after);
    if (key) {
      const byKey = (items: unknown[]) =>
        new Map(items.map((item) => [String((item as Record<string, unknown>)[key]), item]));
      const old = byKey(before);
      const next = byKey(after);
      for (const id of new Set([...old.keys(), ...next.keys()]))
        walk(old.get(id), next.get(id), `${path}[${id}]`, changed);
      return;
    }
    if (before.length !== after.length) {
      changed.push(path);
      return;
    }
    before.forEach((item, i) => walk(item, after[i], `${path}[${i}]`, changed));
    return;
  }
  if (isObject(before) && isObject(after)) {
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)]))
      walk(before[field], after[field], path ? `${path}.${field}` : field, changed);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) changed.push(path);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `type` or `name`, when every item of `items` is an object with a distinct string value there. */
function itemKey(items: unknown[]): 'type' | 'name' | undefined {
  for (const key of ['type', 'name'] as const) {
    const values = items.map((item) => (isObject(item) ? item[key] : undefined));
    if (values.every((v) => typeof v === 'string') && new Set(values).size === values.length) return key;
  }
  return undefined;
}

/**
 * Per-write tallies: how many writes changed each field, and how many changed exactly each set of fields
 * (a heartbeat is the set `status.agent.lastHeartbeatTime` alone). Pure.
 */
export function tallyWrites(writes: readonly (readonly string[])[]): {
  byField: Record<string, number>;
  byChange: Record<string, number>;
} {
  const byField = new Map<string, number>();
  const byChange = new Map<string, number>();
  for (const fields of writes) {
    for (const field of fields) byField.set(field, (byField.get(field) ?? 0) + 1);
    const change = fields.length ? fields.join(' + ') : '(nothing but the resourceVersion)';
    byChange.set(change, (byChange.get(change) ?? 0) + 1);
  }
  const sorted = (counts: Map<string, number>) =>
    Object.fromEntries([...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
  return { byField: sorted(byField), byChange: sorted(byChange) };
}
