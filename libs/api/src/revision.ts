/**
 * The revision of a NodePool template: a short content hash, stable under the
 * order of object keys and of items in keyed lists (components by name, files
 * by path), so only a real change of the template starts a rollout. Like
 * MCO's rendered-<pool>-<hash>.
 */
import { createHash } from 'node:crypto';
import { NodePoolTemplate } from './node-pool.ts';
import type { NodePoolTemplate as NodePoolTemplateType } from './node-pool.ts';
import type { JsonSchema } from './structural-schema.ts';

/** Hex digits in a revision: 40 bits, ample for the revisions of one pool. */
export const REVISION_LENGTH = 10;

/** The revision (10 hex digits) of a NodePool template. */
export function templateRevision(template: NodePoolTemplateType): string {
  const canonical = canonicalJson(template, NodePoolTemplate as unknown as JsonSchema);
  return createHash('sha256').update(canonical).digest('hex').slice(0, REVISION_LENGTH);
}

/** `<pool>-<revision>`, a name for objects that keep a revision (e.g. a ControllerRevision). */
export function revisionName(poolName: string, revision: string): string {
  return `${poolName}-${revision}`;
}

/**
 * JSON with sorted object keys; lists the schema marks as `map` or `set` are
 * sorted too, because their order carries no meaning. Atomic lists keep theirs.
 */
export function canonicalJson(value: unknown, schema: JsonSchema | undefined): string {
  if (Array.isArray(value)) {
    const itemSchema = schema?.items as JsonSchema | undefined;
    const items = value.map((item) => canonicalJson(item, itemSchema));
    const listType = schema?.['x-kubernetes-list-type'];
    if (listType === 'map' || listType === 'set') items.sort();
    return `[${items.join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const properties = schema?.properties as Record<string, JsonSchema> | undefined;
    const additional = schema?.additionalProperties as JsonSchema | undefined;
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(
        ([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child, properties?.[key] ?? additional)}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
