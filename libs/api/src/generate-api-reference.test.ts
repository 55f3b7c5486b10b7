import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { customResourceDefinition } from './crd.ts';
import {
  API_REFERENCE_PATH,
  apiReferenceMarkdown,
  fieldRows,
  formattedApiReference,
  typeOf,
  validationOf,
} from './generate-api-reference.ts';
import { ALL_RESOURCES, RESOURCES } from './resources.ts';
import type { JsonSchema } from './structural-schema.ts';
import { defined } from './testdata/defined.ts';

function celMessages(node: JsonSchema, into: string[] = []): string[] {
  for (const rule of (node['x-kubernetes-validations'] as { message: string }[] | undefined) ?? [])
    into.push(rule.message);
  for (const child of Object.values((node.properties as Record<string, JsonSchema> | undefined) ?? {}))
    celMessages(child, into);
  if (node.items) celMessages(node.items as JsonSchema, into);
  if (typeof node.additionalProperties === 'object')
    celMessages(node.additionalProperties as JsonSchema, into);
  return into;
}

describe('docs/api-reference.md', () => {
  it('is committed exactly as the schemas generate it (run `npm run generate:docs -w @kok/api`)', async () => {
    expect(readFileSync(API_REFERENCE_PATH, 'utf8')).toBe(await formattedApiReference());
  });

  it.each(ALL_RESOURCES.map((r) => [r.kind, r] as const))(
    '%s: every CEL message the apiserver can answer with is in the reference',
    (_, resource) => {
      const markdown = apiReferenceMarkdown([resource]);
      const schema = defined(customResourceDefinition(resource).spec.versions[0]).schema.openAPIV3Schema;
      const messages = celMessages(schema);
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(markdown).toContain(message.replace(/\|/g, '\\|'));
    },
  );

  it('lists nested fields with their type, default, validation and description', () => {
    const rows = new Map(fieldRows(RESOURCES.NodePool).map((row) => [row.path, row]));
    expect(rows.get('spec.rollout.strategy.rollingUpdate.maxUnavailable')).toMatchObject({
      type: 'int or string',
      default: '1',
      validation: [
        'max length 4',
        'maxUnavailable must be an integer of at least 1 or a percentage from "1%" to "100%"',
      ],
    });
    expect(rows.get('spec.template')?.validation).toEqual(['required']);
    expect(rows.get('spec.rollout.waves[].name')?.validation).toContain('required');
    expect(rows.get('spec.disruptionPolicy.defaultAction')).toMatchObject({
      default: '"Drain"',
      validation: ['one of `None`, `Reload`, `Restart`, `Drain`'],
    });
    expect(rows.has('metadata')).toBe(false);
    expect(rows.has('apiVersion')).toBe(false);
    for (const row of rows.values()) expect(row.description, row.path).not.toBe('');
  });

  it.each([
    [{ type: 'string' }, 'string'],
    [{ type: 'string', format: 'date-time' }, 'string (RFC 3339 time)'],
    [{ type: 'integer', format: 'int64' }, 'integer (int64)'],
    [{ type: 'array', items: { type: 'object' } }, '[]object'],
    [{ type: 'object', additionalProperties: { type: 'boolean' } }, 'map[string]boolean'],
    [{ 'x-kubernetes-int-or-string': true, anyOf: [] }, 'int or string'],
  ])('type of %j is %s', (node, expected) => {
    expect(typeOf(node)).toBe(expected);
  });

  it('marks transition rules as checked on update', () => {
    expect(
      validationOf(
        { 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] },
        false,
      ),
    ).toEqual(['immutable (on update)']);
  });
});
