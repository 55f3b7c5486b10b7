/** A JSON value as JSON.parse produces it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7386) that turns `before` into `after`, or
 * undefined when they are equal. Arrays are replaced whole, removed keys
 * become null.
 */
export function mergePatchBetween(before: unknown, after: unknown): Record<string, unknown> | undefined {
  if (!isObject(before) || !isObject(after)) throw new Error('mergePatchBetween compares two objects');
  const patch = diff(before, after);
  return patch === undefined ? undefined : (patch as Record<string, unknown>);
}

function diff(before: Record<string, Json>, after: Record<string, Json>): Record<string, Json> | undefined {
  const patch: Record<string, Json> = {};
  let changed = false;
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) {
      patch[key] = null;
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = before[key];
    if (isObject(old) && isObject(value)) {
      const sub = diff(old, value);
      if (sub !== undefined) {
        patch[key] = sub;
        changed = true;
      }
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

/** Applies a JSON merge patch (RFC 7386) without mutating `target`. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
