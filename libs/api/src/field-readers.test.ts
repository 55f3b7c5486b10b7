/**
 * Every field of every kind has a reader: code outside libs/api that reads the
 * field's property. A field nobody reads is a promise the CRD makes and no
 * program keeps (a spec knob that does nothing, a status nobody looks at).
 *
 * The heuristic works on the syntax of each non-test TypeScript file under
 * apps/ and libs/ (libs/api, libs/testing and test support excluded): a read
 * is `x.field`, `x?.field` or `x['field']` not being assigned to, or `field`
 * in a destructuring pattern. Writing `{ field: … }` is not a read. It goes by
 * property name only, so a common name (`name`, `version`) read anywhere
 * counts for every field of that name: the test catches distinctive fields
 * nobody reads, not every unread one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { crdSchemaOf } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';
import { ALL_RESOURCES } from './resources.ts';

const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * Fields with no reader in code, on purpose. `Kind path` → why nothing has to
 * read it. A field leaves this list the moment something reads it (the test
 * says so).
 */
const UNREAD_FIELDS: ReadonlyMap<string, string> = new Map([
  [
    'Cluster status.version.history[].startedTime',
    'A record for people (kubectl get -o yaml): the operator writes it when a version starts rolling out and never decides anything by it.',
  ],
  ...(['caSHA256', 'frontProxyCASHA256', 'etcdCASHA256', 'serviceAccountKeySHA256'] as const).map(
    (name): [string, string] => [
      `Cluster status.pki.${name}`,
      'Read as a whole: guardPki (kube-on-kube-operator pki-guard.ts) takes any recorded fingerprint to mean the ' +
        'Cluster had its PKI; the value itself is for a person restoring the Secret.',
    ],
  ),
  [
    'NodePool spec.disruptionPolicy.defaultAction',
    'Read by machineChanges in libs/api (disruption.ts), the one pricing of a change that the node-operator ' +
      '(whether to drain) and kubectl kok nodepool plan both call.',
  ],
  [
    'Cluster status.version.history[].completionTime',
    'Read by the ClusterRollout observation in libs/api (cluster-rollout-observation.ts): when a cluster ' +
      'finished its upgrade is one of the times its bake counts from; the operator and kubectl kok clusterrollout plan both call it.',
  ],
  [
    'ClusterRollout status.updatedClusters',
    'Shown by the printer column Updated (kubectl get clusterrollouts).',
  ],
  [
    'ClusterRollout status.failedClusters',
    'Shown by the printer column Failed (kubectl get clusterrollouts).',
  ],
  [
    'ClusterRollout status.upgradingClusters',
    'A count for people (kubectl get -o yaml) beside updated and failed; the operator plans from each Cluster, not from it.',
  ],
]);

/** Source trees that are not readers: this library itself, test infrastructure, simulators and fixtures. */
const NOT_READERS = [
  join('libs', 'api') + sep,
  join('libs', 'testing') + sep,
  `${sep}test-support${sep}`,
  `${sep}testdata${sep}`,
  `${sep}simulators${sep}`,
  `${sep}fixtures${sep}`,
];

function isReaderSource(path: string): boolean {
  const relativePath = relative(REPOSITORY_ROOT, path);
  return (
    path.endsWith('.ts') &&
    !path.endsWith('.test.ts') &&
    !path.endsWith('.d.ts') &&
    !NOT_READERS.some(
      (excluded) => (relativePath + sep).includes(excluded) || relativePath.startsWith(excluded),
    )
  );
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return isReaderSource(path) ? [path] : [];
  });
}

/** `target` of `target = …`: a write. (`+=`, `++` and the like read it as well.) */
function isAssignedTo(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    ts.isBinaryExpression(parent) &&
    parent.left === node &&
    parent.operatorToken.kind === ts.SyntaxKind.EqualsToken
  );
}

/** Every property name the TypeScript source `text` reads. */
function propertiesReadIn(text: string): Set<string> {
  const source = ts.createSourceFile('source.ts', text, ts.ScriptTarget.Latest, true);
  const read = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && !isAssignedTo(node)) read.add(node.name.text);
    else if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      !isAssignedTo(node)
    )
      read.add(node.argumentExpression.text);
    else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
      const name = node.propertyName ?? node.name;
      if (ts.isIdentifier(name) || ts.isStringLiteralLike(name)) read.add(name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return read;
}

interface Field {
  /** `spec.rollout.waves[].count`: `[]` steps into list items, `.*` into map values. */
  path: string;
  name: string;
}

function fieldsOf(node: JsonSchema, path: string): Field[] {
  const properties = (node.properties as Record<string, JsonSchema> | undefined) ?? {};
  const own = Object.entries(properties).flatMap(([name, child]) => [
    { path: `${path}.${name}`, name },
    ...fieldsOf(child, `${path}.${name}`),
  ]);
  const items = node.items as JsonSchema | undefined;
  const values =
    typeof node.additionalProperties === 'object' ? (node.additionalProperties as JsonSchema) : undefined;
  return [
    ...own,
    ...(items ? fieldsOf(items, `${path}[]`) : []),
    ...(values ? fieldsOf(values, `${path}.*`) : []),
  ];
}

/** `Kind path` of every spec and status field of every kind. */
function everyField(): { key: string; name: string }[] {
  return ALL_RESOURCES.flatMap((resource) => {
    const schema = crdSchemaOf(resource.schema);
    const top = schema.properties as Record<string, JsonSchema>;
    return (['spec', 'status'] as const).flatMap((part) =>
      top[part]
        ? fieldsOf(top[part], part).map(({ path, name }) => ({ key: `${resource.kind} ${path}`, name }))
        : [],
    );
  });
}

const readers = new Map<string, string[]>();
for (const path of [
  ...sourceFiles(join(REPOSITORY_ROOT, 'apps')),
  ...sourceFiles(join(REPOSITORY_ROOT, 'libs')),
]) {
  for (const name of propertiesReadIn(readFileSync(path, 'utf8'))) {
    const files = readers.get(name) ?? [];
    files.push(relative(REPOSITORY_ROOT, path));
    readers.set(name, files);
  }
}
const fields = everyField();

describe('every CRD field has a reader', () => {
  it('finds the sources it judges by', () => {
    // A wrong root or an over-eager exclusion would make every field look unread, or (with a
    // reader list of one file) pass by accident.
    expect(
      readers.get('maxUnavailable')?.some((file) => file.startsWith(join('apps', 'node-operator'))),
    ).toBe(true);
    expect(fields.length).toBeGreaterThan(100);
    expect(fields.some(({ key }) => key === 'NodePool spec.rollout.maxFailed')).toBe(true);
  });

  it('tells a read from a write', () => {
    const read = propertiesReadIn(`
      const { alpha, beta: renamed } = object;
      use(object.gamma, object?.delta, object['epsilon'], renamed);
      object.zeta = 1;
      object.eta += 1;
      const written = { theta: 1, [key]: 2 };
    `);
    expect([...read].sort()).toEqual(['alpha', 'beta', 'delta', 'epsilon', 'eta', 'gamma']);
  });

  it('every spec and status field is read somewhere in apps/ or libs/ outside libs/api', () => {
    const unread = fields
      .filter(({ key, name }) => !readers.has(name) && !UNREAD_FIELDS.has(key))
      .map(({ key }) => key);
    expect(
      unread,
      `${unread.length} field(s) with no reader:\n  ${unread.join('\n  ')}\n` +
        'Nothing outside libs/api reads these properties, so the CRD promises something no program does. ' +
        'Make the operator or agent act on (or the CLI show) the field, remove it from the schema in libs/api ' +
        '(then regenerate crds/ and docs/api-reference.md), or, when nothing ever has to read it, add it to ' +
        'UNREAD_FIELDS in libs/api/src/field-readers.test.ts with the reason.',
    ).toEqual([]);
  });

  it('keeps no stale entry in UNREAD_FIELDS', () => {
    const known = new Map(fields.map(({ key, name }) => [key, name]));
    const stale = [...UNREAD_FIELDS.keys()].flatMap((key) => {
      const name = known.get(key);
      if (name === undefined) return [`${key}: no such field any more; remove the entry`];
      const files = readers.get(name);
      return files ? [`${key}: now read (${files.slice(0, 3).join(', ')}); remove the entry`] : [];
    });
    expect(stale, `UNREAD_FIELDS in libs/api/src/field-readers.test.ts:\n  ${stale.join('\n  ')}`).toEqual(
      [],
    );
  });
});
