/**
 * Turns a kind's TypeBox schema into the openAPIV3Schema of its CRD, and
 * checks the rules of a structural schema that the apiserver would otherwise
 * reject the CRD for (plus ours: every node described).
 */
import { ENVELOPE_PROPERTIES } from './resource-schema.ts';
import type { TObject } from 'typebox';

export type JsonSchema = { [key: string]: unknown };

/** A JSON copy: drops the TypeScript halves of CEL rules and TypeBox's hidden markers. */
export function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The openAPIV3Schema for a kind: metadata left to the apiserver, envelope fields not required. */
export function crdSchemaOf(schema: TObject): JsonSchema {
  const json = toJson(schema) as unknown as JsonSchema & { properties: Record<string, JsonSchema> };
  json.properties.metadata = { type: 'object' };
  const required = ((json.required as string[] | undefined) ?? []).filter(
    (name) => !(ENVELOPE_PROPERTIES as readonly string[]).includes(name),
  );
  if (required.length > 0) json.required = required;
  else delete json.required;
  removeEmptyRequired(json);
  return orderKeys(json) as JsonSchema;
}

const LEADING_KEYS = ['description', 'type', 'format'];

/** description and type first, so the YAML reads top-down like `kubectl explain`. */
function orderKeys(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(orderKeys);
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as JsonSchema);
  const rank = (key: string) =>
    LEADING_KEYS.includes(key) ? LEADING_KEYS.indexOf(key) : LEADING_KEYS.length;
  return Object.fromEntries(
    entries
      .map(([key, value], index) => ({ key, value, index }))
      .sort((a, b) => rank(a.key) - rank(b.key) || a.index - b.index)
      .map(({ key, value }) => [key, orderChild(key, value)]),
  );
}

function orderChild(key: string, value: unknown): unknown {
  if (key === 'default' || key === 'enum') return value;
  if (key !== 'properties') return orderKeys(value);
  // Property names are data, not keywords: keep their order, order each property's schema.
  return Object.fromEntries(
    Object.entries(value as JsonSchema).map(([name, child]) => [name, orderKeys(child)]),
  );
}

function removeEmptyRequired(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(removeEmptyRequired);
  if (node === null || typeof node !== 'object') return;
  const record = node as JsonSchema;
  if (Array.isArray(record.required) && record.required.length === 0) delete record.required;
  for (const [key, value] of Object.entries(record)) {
    if (key !== 'default' && key !== 'enum' && key !== 'x-kubernetes-validations') removeEmptyRequired(value);
  }
}

const INT_OR_STRING_ANY_OF = JSON.stringify([{ type: 'integer' }, { type: 'string' }]);

/** Every way `schema` breaks the structural rules, as `path: problem`; empty when it is fine. */
export function structuralViolations(schema: JsonSchema, path = '', describedRequired = true): string[] {
  const problems: string[] = [];
  const at = path || '<root>';
  if ('$ref' in schema) problems.push(`${at}: $ref is not allowed`);
  for (const combinator of ['allOf', 'oneOf', 'not']) {
    if (combinator in schema) problems.push(`${at}: ${combinator} is not used by kok schemas`);
  }
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if ('anyOf' in schema && !(intOrString && JSON.stringify(schema.anyOf) === INT_OR_STRING_ANY_OF)) {
    problems.push(`${at}: anyOf is only allowed as the int-or-string pattern`);
  }
  if (schema.type === undefined && !intOrString && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    problems.push(`${at}: every node needs a type`);
  }
  if (describedRequired && typeof schema.description !== 'string')
    problems.push(`${at}: description missing`);
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties && 'additionalProperties' in schema) {
    problems.push(`${at}: properties and additionalProperties exclude each other`);
  }
  if (schema.additionalProperties === false)
    problems.push(`${at}: additionalProperties: false is not allowed`);
  if ('patternProperties' in schema) problems.push(`${at}: patternProperties is not allowed`);
  for (const [name, child] of Object.entries(properties ?? {})) {
    const isMetadata = path === '' && name === 'metadata';
    problems.push(...structuralViolations(child, `${path}.${name}`, !isMetadata));
  }
  if (typeof schema.additionalProperties === 'object') {
    problems.push(...structuralViolations(schema.additionalProperties as JsonSchema, `${path}.*`, false));
  }
  if (schema.type === 'array') {
    const items = schema.items as JsonSchema | undefined;
    if (!items || Array.isArray(items)) problems.push(`${at}: arrays need one items schema`);
    else {
      problems.push(...structuralViolations(items, `${path}[*]`, false));
      if (schema['x-kubernetes-list-type'] === 'map') {
        const keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
        const required = (items.required as string[] | undefined) ?? [];
        if (keys.length === 0) problems.push(`${at}: a map list needs x-kubernetes-list-map-keys`);
        for (const key of keys) {
          if (!required.includes(key)) problems.push(`${at}: map key ${key} must be required in the items`);
        }
      }
    }
    if (typeof schema.maxItems !== 'number') problems.push(`${at}: lists need maxItems`);
  }
  if (
    schema.type === 'string' &&
    typeof schema.maxLength !== 'number' &&
    !schema.enum &&
    schema.format !== 'date-time'
  ) {
    problems.push(`${at}: strings need maxLength`);
  }
  return problems;
}
