/**
 * docs/api-reference.md, generated from the same schemas as the CRDs: every
 * field of every kind with its type, default, validation (bounds, patterns,
 * enums and the messages of the CEL rules) and description. Run with
 * `npm run generate:docs -w @kok/api`; generate-api-reference.test.ts fails
 * when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { crdSchemaOf } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';
import { apiVersionOf } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import { ALL_RESOURCES } from './resources.ts';

export const API_REFERENCE_PATH = join(import.meta.dirname, '..', '..', '..', 'docs', 'api-reference.md');

/** One row of a kind's field table. */
export interface FieldRow {
  /** `spec.rollout.waves[].count`; `[]` steps into list items, `.*` into map values. */
  path: string;
  type: string;
  default?: string;
  /** Each constraint as a short phrase: `required`, `max 63 chars`, CEL messages, … */
  validation: string[];
  description: string;
}

const ENVELOPE = new Set(['apiVersion', 'kind', 'metadata']);

function properties(node: JsonSchema): Record<string, JsonSchema> {
  return (node.properties as Record<string, JsonSchema> | undefined) ?? {};
}

/** The type as a person reads it: `string`, `integer (int64)`, `[]object`, `map[string]string`, `int or string`. */
export function typeOf(node: JsonSchema): string {
  if (node['x-kubernetes-int-or-string'] === true) return 'int or string';
  const format = typeof node.format === 'string' ? ` (${node.format})` : '';
  switch (node.type) {
    case 'array':
      return `[]${typeOf((node.items as JsonSchema | undefined) ?? {})}`;
    case 'object':
      return typeof node.additionalProperties === 'object'
        ? `map[string]${typeOf(node.additionalProperties as JsonSchema)}`
        : 'object';
    case undefined:
      return 'any';
    default:
      return `${String(node.type)}${node.type === 'integer' ? format : format.replace(' (date-time)', ' (RFC 3339 time)')}`;
  }
}

/** Every constraint the apiserver enforces on this node, as short phrases. */
export function validationOf(node: JsonSchema, required: boolean): string[] {
  const rules: string[] = [];
  if (required) rules.push('required');
  if (Array.isArray(node.enum)) rules.push(`one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`);
  const bound = (key: string, phrase: (value: unknown) => string) => {
    if (node[key] !== undefined) rules.push(phrase(node[key]));
  };
  bound('minimum', (v) => `minimum ${String(v)}`);
  bound('maximum', (v) => `maximum ${String(v)}`);
  bound('minLength', (v) => `min length ${String(v)}`);
  bound('maxLength', (v) => `max length ${String(v)}`);
  bound('minItems', (v) => `min ${String(v)} items`);
  bound('maxItems', (v) => `max ${String(v)} items`);
  bound('maxProperties', (v) => `max ${String(v)} entries`);
  bound('pattern', (v) => `matches \`${String(v)}\``);
  if (node['x-kubernetes-list-type'] === 'map') {
    const keys = (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    rules.push(`unique by ${keys.map((k) => `\`${k}\``).join(', ')}`);
  }
  if (node['x-kubernetes-list-type'] === 'set') rules.push('unique items');
  for (const rule of (node['x-kubernetes-validations'] as
    { message?: string; rule: string; optionalOldSelf?: boolean }[] | undefined) ?? []) {
    // An optionalOldSelf rule that passes whenever oldSelf has a value holds on create only.
    const transition = rule.optionalOldSelf
      ? /^oldSelf\.hasValue\(\) \|\|/.test(rule.rule)
        ? ' (on create)'
        : ''
      : /\boldSelf\b/.test(rule.rule)
        ? ' (on update)'
        : '';
    rules.push(`${rule.message ?? rule.rule}${transition}`);
  }
  return rules;
}

const BOUND_PHRASE =
  /^(one of|minimum|maximum|min length|max length|min items|max items|max entries|matches|unique)/;

/** A CEL rule's message, as opposed to a bound: only those are repeated from items onto their list. */
function isRule(phrase: string): boolean {
  return !BOUND_PHRASE.test(phrase) && phrase !== 'required';
}

/** The field rows of one kind, depth first in schema order; apiVersion, kind and metadata are left out. */
export function fieldRows(resource: ResourceDefinition): FieldRow[] {
  const rows: FieldRow[] = [];
  const visit = (node: JsonSchema, path: string, required: boolean) => {
    const row: FieldRow = {
      path,
      type: typeOf(node),
      validation: validationOf(node, required),
      description: typeof node.description === 'string' ? node.description : '',
    };
    if (node.default !== undefined) row.default = JSON.stringify(node.default);
    // Rules on each item of a list (or value of a map) belong to the list's row: the items have none of their own.
    for (const inner of [node.items, node.additionalProperties]) {
      if (typeof inner === 'object' && inner !== null)
        row.validation.push(
          ...validationOf(inner as JsonSchema, false)
            .filter(isRule)
            .map((r) => `each: ${r}`),
        );
    }
    rows.push(row);
    descend(node, path);
  };
  const descend = (node: JsonSchema, path: string) => {
    const requiredNames = new Set((node.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(properties(node)))
      visit(child, `${path}.${name}`, requiredNames.has(name));
    const items = node.items as JsonSchema | undefined;
    if (items && (items.properties || items.items)) descend(items, `${path}[]`);
    const values = node.additionalProperties;
    if (typeof values === 'object' && (values as JsonSchema).properties)
      descend(values as JsonSchema, `${path}.*`);
  };
  const root = crdSchemaOf(resource.schema);
  const rootRequired = new Set((root.required as string[] | undefined) ?? []);
  for (const [name, child] of Object.entries(properties(root))) {
    if (!ENVELOPE.has(name)) visit(child, name, rootRequired.has(name));
  }
  return rows;
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function anchor(kind: string): string {
  return kind.toLowerCase();
}

function kindSection(resource: ResourceDefinition): string {
  const root = crdSchemaOf(resource.schema);
  const lines = [
    `## ${resource.kind}`,
    '',
    cell(typeof root.description === 'string' ? root.description : ''),
    '',
    `- apiVersion: \`${apiVersionOf(resource)}\``,
    `- scope: ${resource.scope === 'Namespaced' ? 'namespaced' : 'cluster-scoped'}`,
    `- names: \`${resource.plural}\`, \`${resource.singular}\`, short ${resource.shortNames.map((n) => `\`${n}\``).join(', ')}; category \`kok\``,
    `- guide: [guides/${anchor(resource.kind)}.md](guides/${anchor(resource.kind)}.md)`,
    '',
    '`kubectl get` columns:',
    '',
    '| Column | JSONPath | Shown | Description |',
    '| --- | --- | --- | --- |',
    ...resource.printerColumns.map(
      (c) =>
        `| ${c.name} | \`${cell(c.jsonPath)}\` | ${(c.priority ?? 0) > 0 ? 'with `-o wide`' : 'always'} | ${cell(c.description)} |`,
    ),
    '',
    ...objectRules(root),
    '| Field | Type | Default | Validation | Description |',
    '| --- | --- | --- | --- | --- |',
    ...fieldRows(resource).map(
      (row) =>
        `| \`${row.path}\` | ${cell(row.type)} | ${row.default === undefined ? '' : `\`${cell(row.default)}\``} | ${cell(row.validation.join('; '))} | ${cell(row.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Rules on the whole object (they can read metadata.name), listed above the fields: no row holds them. */
function objectRules(root: JsonSchema): string[] {
  const rules = validationOf(root, false).filter(isRule);
  if (rules.length === 0) return [];
  return ['Rules on the whole object:', '', ...rules.map((rule) => `- ${cell(rule)}`), ''];
}

/** The whole docs/api-reference.md. */
export function apiReferenceMarkdown(resources: readonly ResourceDefinition[] = ALL_RESOURCES): string {
  const groups = [...new Set(resources.map((r) => apiVersionOf(r)))];
  const contents = groups.map(
    (group) =>
      `- \`${group}\`: ${resources
        .filter((r) => apiVersionOf(r) === group)
        .map((r) => `[${r.kind}](#${anchor(r.kind)})`)
        .join(', ')}`,
  );
  return [
    '<!-- Generated from libs/api by `npm run generate:docs -w @kok/api`. Do not edit. -->',
    '',
    '# kok API reference',
    '',
    'Every field of every kok kind, generated from the schemas in `libs/api` (the same ones the CRDs in `crds/` come from).',
    'Paths use `[]` for the items of a list and `.*` for the values of a map. "Validation" lists what the apiserver',
    'enforces: bounds, patterns, enums and the message of each CEL rule, word for word as `kubectl` shows it when a',
    'change is refused; "(on update)" marks rules that compare with the previous value. Defaults are filled in by',
    'the apiserver when the field is left out.',
    '',
    ...contents,
    '',
    ...resources.map(kindSection),
  ].join('\n');
}

/** The markdown as prettier lays it out, so `prettier --write .` leaves the committed file alone. */
export async function formattedApiReference(): Promise<string> {
  const options = (await resolveConfig(API_REFERENCE_PATH)) ?? {};
  return format(apiReferenceMarkdown(), { ...options, parser: 'markdown' });
}

if (import.meta.main) {
  writeFileSync(API_REFERENCE_PATH, await formattedApiReference());
  console.log(`wrote ${API_REFERENCE_PATH}`);
}
