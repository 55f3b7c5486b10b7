import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { customResourceDefinition } from './crd.ts';
import { crdFiles } from './crd-files.ts';
import { ALL_RESOURCES } from './resources.ts';
import { structuralViolations } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';
import { defined } from './testdata/defined.ts';
import { EXAMPLES_DIR } from './testdata/examples.ts';

const CRDS_DIR = join(EXAMPLES_DIR, '..');

function walk(schema: JsonSchema, visit: (node: JsonSchema, path: string) => void, path = ''): void {
  visit(schema, path);
  for (const [name, child] of Object.entries((schema.properties as Record<string, JsonSchema>) ?? {})) {
    walk(child, visit, `${path}.${name}`);
  }
  if (schema.items) walk(schema.items as JsonSchema, visit, `${path}[*]`);
  if (typeof schema.additionalProperties === 'object')
    walk(schema.additionalProperties as JsonSchema, visit, `${path}.*`);
}

describe('generated CRDs', () => {
  it('are committed in crds/ exactly as the schemas generate them (run `npm run generate -w @kok/api`)', () => {
    const committed = readdirSync(CRDS_DIR).filter((name) => name.endsWith('.yaml'));
    const generated = crdFiles();
    expect(committed.sort()).toEqual([...generated.keys()].sort());
    for (const [name, content] of generated) {
      expect(readFileSync(join(CRDS_DIR, name), 'utf8'), name).toBe(content);
    }
  });

  it.each(ALL_RESOURCES.map((r) => [r.kind, r] as const))(
    '%s is structural and fully described',
    (_, resource) => {
      const crd = customResourceDefinition(resource);
      const schema = defined(crd.spec.versions[0]).schema.openAPIV3Schema;
      expect(structuralViolations(schema)).toEqual([]);
      expect(JSON.stringify(schema)).not.toContain('$ref');
      expect(JSON.stringify(schema)).not.toContain('"additionalProperties":false');
      expect((schema.properties as Record<string, unknown>).metadata).toEqual({ type: 'object' });
      expect(schema.required).toEqual(['spec']);
    },
  );

  it.each(ALL_RESOURCES.map((r) => [r.kind, r] as const))(
    '%s has a status subresource, the kok category and short names',
    (_, resource) => {
      const crd = customResourceDefinition(resource);
      expect(crd.metadata.name).toBe(`${resource.plural}.${resource.group}`);
      expect(defined(crd.spec.versions[0]).subresources).toEqual({ status: {} });
      expect(crd.spec.names.categories).toEqual(['kok']);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    },
  );

  it('every CEL rule carries a message and survives serialisation without its TypeScript half', () => {
    let rules = 0;
    for (const resource of ALL_RESOURCES) {
      const yaml = parse(defined(crdFiles().get(`${resource.group}_${resource.plural}.yaml`))) as {
        spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
      };
      walk(defined(yaml.spec.versions[0]).schema.openAPIV3Schema, (node, path) => {
        for (const rule of (node['x-kubernetes-validations'] as Record<string, unknown>[] | undefined) ??
          []) {
          rules++;
          expect(Object.keys(rule).sort(), path).toEqual(expect.arrayContaining(['message', 'rule']));
          expect(rule).not.toHaveProperty('check');
        }
      });
    }
    expect(rules).toBeGreaterThan(20);
  });

  it('prints the columns people asked for', () => {
    const columns = (kind: string) =>
      customResourceDefinition(
        defined(ALL_RESOURCES.find((r) => r.kind === kind)),
      ).spec.versions[0]?.additionalPrinterColumns.map((c) => c.name);
    expect(columns('Machine')).toEqual(['Pool', 'Desired', 'Current', 'Phase', 'Node Ready', 'Age']);
    expect(columns('NodePool')).toEqual([
      'Machines',
      'Updated',
      'Ready',
      'Unavailable',
      'Wave',
      'Paused',
      'Age',
    ]);
    expect(columns('Cluster')).toEqual(['Version', 'Current', 'Phase', 'Endpoint', 'Available', 'Age']);
  });

  it('finds what the apiserver would refuse', () => {
    expect(
      structuralViolations({
        type: 'object',
        description: 'x',
        properties: {
          a: { description: 'no type' },
          b: { type: 'object', description: 'b', properties: {}, additionalProperties: false },
          c: { $ref: '#/x', type: 'string', description: 'c', maxLength: 1 },
          d: { type: 'array', description: 'd', items: { type: 'string', maxLength: 1 } },
        },
      }),
    ).toEqual([
      '.a: every node needs a type',
      '.b: properties and additionalProperties exclude each other',
      '.b: additionalProperties: false is not allowed',
      '.c: $ref is not allowed',
      '.d: lists need maxItems',
    ]);
  });
});
