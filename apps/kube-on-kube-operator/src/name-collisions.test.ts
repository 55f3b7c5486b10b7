import { CLUSTER_NAME_FORBIDDEN_ENDINGS, ClusterResource, forbiddenClusterNameEnding } from '@kok/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collidingNameEndings, MAX_ETCD_REPLICAS, nameTemplates } from './name-collisions.ts';
import type { DerivedName } from './names.ts';
import { clusterNames, derivedObjectNames } from './names.ts';

const NAMESPACE = 'fleet';
const namesOf = (cluster: string) => derivedObjectNames(clusterNames(NAMESPACE, cluster), MAX_ETCD_REPLICAS);
const key = (n: DerivedName) => `${n.kind}/${n.name}`;
const shared = (a: string, b: string) => {
  const ofA = new Set(namesOf(a).map(key));
  return namesOf(b)
    .map(key)
    .filter((k) => ofA.has(k));
};

/** What the apiserver accepts as a Cluster's name: a DNS subdomain the CRD's rule lets through. */
const isAllowedName = (name: string) =>
  name.length <= 253 &&
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) &&
  forbiddenClusterNameEnding(name) === undefined;

// Words of the derived names, so that generated names come close to colliding.
const word = fc.constantFrom(
  'x',
  'a',
  '0',
  '1',
  'etcd',
  'client',
  'ca',
  'front',
  'proxy',
  'sa',
  'apiserver',
  'kube',
  'serving',
  'kubelet',
  'peer',
  'server',
  'admin',
  'kubeconfig',
  'controller',
  'manager',
  'scheduler',
  'node',
  'operator',
  'data',
);
const words = fc.array(word, { minLength: 1, maxLength: 5 });
const clusterName = fc
  .tuple(words, fc.constantFrom('-', '.'))
  .map(([ws, separator]) => ws.join(separator))
  .filter(isAllowedName);
/** A name, and the same name with words appended: the shape every collision has. */
const extendedPair = fc
  .tuple(clusterName, words)
  .map(([a, more]) => [a, `${a}-${more.join('-')}`] as const)
  .filter(([, b]) => isAllowedName(b));

describe('derived object names', () => {
  it('list every object name of clusterNames', () => {
    const names = clusterNames(NAMESPACE, 'prod');
    const listed = new Set(derivedObjectNames(names, 1).map((n) => n.name));
    const { cluster, namespace, apiServerServiceHost, etcdMemberHost, etcdClaim, secrets, ...objects } =
      names;
    expect([cluster, namespace, apiServerServiceHost, etcdMemberHost, etcdClaim]).toBeDefined();
    for (const name of [...Object.values(objects), ...Object.values(secrets), etcdClaim(0)])
      expect(listed).toContain(name);
  });

  it('give Clusters x and x-etcd a shared Secret when nothing refuses the name (what the rule prevents)', () => {
    expect(shared('x', 'x-etcd')).toContain('Secret/x-etcd-ca');
    expect(shared('x', 'x-front-proxy')).toContain('Secret/x-front-proxy-ca');
  });

  it('collide only through the endings the Cluster CRD refuses', () => {
    expect(collidingNameEndings()).toEqual([...CLUSTER_NAME_FORBIDDEN_ENDINGS].sort());
    // One prefix per kind: a second one would make name beginnings collide as well.
    const prefixes = new Map<string, Set<string>>();
    for (const t of nameTemplates()) prefixes.set(t.kind, (prefixes.get(t.kind) ?? new Set()).add(t.prefix));
    for (const kinds of prefixes.values()) expect(kinds.size).toBe(1);
  });

  it('are disjoint, kind by kind, for any two different Cluster names the CRD accepts', () => {
    fc.assert(
      fc.property(fc.oneof(extendedPair, fc.tuple(clusterName, clusterName)), ([a, b]) => {
        fc.pre(a !== b);
        expect(shared(a, b)).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('are refused by the CRD rule exactly where forbiddenClusterNameEnding finds one', () => {
    const rule = (
      ClusterResource.schema as {
        'x-kubernetes-validations'?: { check: (self: unknown, old: unknown) => boolean }[];
      }
    )['x-kubernetes-validations']?.[0];
    fc.assert(
      fc.property(
        fc.oneof(
          clusterName,
          extendedPair.map(([, b]) => b),
          words.map((w) => `${w.join('-')}-etcd`),
        ),
        (name) => {
          const created = rule?.check({ metadata: { name } }, undefined);
          expect(created).toBe(forbiddenClusterNameEnding(name) === undefined);
          // Updates pass: a Cluster made before the rule can still be changed and deleted.
          expect(rule?.check({ metadata: { name } }, { metadata: { name } })).toBe(true);
        },
      ),
    );
  });
});
