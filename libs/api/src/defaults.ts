/**
 * Structural defaulting, as the apiserver does it: a missing property with a
 * `default` gets a copy of it, then defaulting continues inside every present
 * value (so `default: {}` on an object fills in that object's own defaults).
 */
import type { ResourceDefinition } from './resource.ts';
import type { Static } from './schema-builders.ts';
import { toJson } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';

/** A copy of `object` with every schema default applied; `object` is not changed. */
export function withDefaults<Resource extends ResourceDefinition>(
  resource: Resource,
  object: Static<Resource['schema']>,
): Static<Resource['schema']> {
  const copy = structuredClone(object);
  applyDefaults(resource.schema as unknown as JsonSchema, copy);
  return copy;
}

function applyDefaults(schema: JsonSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items && typeof schema.items === 'object') {
      for (const item of value) applyDefaults(schema.items as JsonSchema, item);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(
    (schema.properties as Record<string, JsonSchema> | undefined) ?? {},
  )) {
    if (record[name] === undefined && child.default !== undefined) record[name] = toJson(child.default);
    if (record[name] !== undefined) applyDefaults(child, record[name]);
  }
  const additional = schema.additionalProperties;
  if (additional && typeof additional === 'object') {
    for (const child of Object.values(record)) applyDefaults(additional as JsonSchema, child);
  }
}
