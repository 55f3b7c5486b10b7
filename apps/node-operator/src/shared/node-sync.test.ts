import type { Machine } from '@kok/api';
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '@kok/reconcile';
import { desiredNodeFor, nodePatchFor, ownedByKokOf } from './node-sync.ts';
import type { DesiredNode } from './node-sync.ts';
import { OperatorAnnotations } from './resources.ts';

const node = (
  labels: Record<string, string>,
  taints: V1Taint[] = [],
  unschedulable = false,
  owned?: object,
): V1Node => ({
  metadata: {
    name: 'n1',
    resourceVersion: '7',
    labels,
    ...(owned ? { annotations: { [OperatorAnnotations.ownedByKok]: JSON.stringify(owned) } } : {}),
  },
  spec: { taints, unschedulable },
});

const apply = (n: V1Node, d: DesiredNode): V1Node => {
  const patch = nodePatchFor(n, d);
  return patch ? (applyMergePatch(n, patch) as V1Node) : n;
};

describe('desiredNodeFor', () => {
  it('adds the pool label and cordons for spec.unschedulable or the rollout marker', () => {
    const machine = {
      spec: { pool: 'workers', labels: { a: '1' } },
      metadata: { annotations: { [OperatorAnnotations.cordonedByRollout]: 'abc' } },
    } as unknown as Machine;
    expect(desiredNodeFor(machine)).toEqual({
      labels: { a: '1', 'nodes.kok.dev/pool': 'workers' },
      taints: [],
      unschedulable: true,
    });
  });
});

describe('nodePatchFor', () => {
  it.each([
    [
      'sets a wanted label and records it',
      node({ keep: 'x' }),
      { labels: { a: '1' }, taints: [], unschedulable: false },
      { keep: 'x', a: '1' },
    ],
    [
      'removes a label kok set before, keeps others',
      node({ keep: 'x', a: '1' }, [], false, { labels: ['a'], taints: [], unschedulable: false }),
      { labels: {}, taints: [], unschedulable: false },
      { keep: 'x' },
    ],
    [
      'never removes a label kok did not set',
      node({ keep: 'x' }),
      { labels: {}, taints: [], unschedulable: false },
      { keep: 'x' },
    ],
  ])('%s', (_, n, desired, labels) => {
    expect(apply(n, desired).metadata?.labels).toEqual(labels);
  });

  it('uncordons only a cordon kok made', () => {
    const byPerson = node({}, [], true);
    expect(apply(byPerson, { labels: {}, taints: [], unschedulable: false }).spec?.unschedulable).toBe(true);
    const cordoned = apply(node({}), { labels: {}, taints: [], unschedulable: true });
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(ownedByKokOf(cordoned).unschedulable).toBe(true);
    expect(
      apply(cordoned, { labels: {}, taints: [], unschedulable: false }).spec?.unschedulable ?? false,
    ).toBe(false);
  });

  it('keeps taints others set (e.g. the node lifecycle controller) and replaces its own', () => {
    const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    const n = apply(node({}, [notReady]), {
      labels: {},
      taints: [{ key: 'gpu', effect: 'NoSchedule' }],
      unschedulable: false,
    });
    expect(n.spec?.taints).toEqual([notReady, { key: 'gpu', effect: 'NoSchedule' }]);
    const after = apply(n, { labels: {}, taints: [], unschedulable: false });
    expect(after.spec?.taints).toEqual([notReady]);
  });

  it('writes nothing when the Node is already right, and carries the resourceVersion when it writes', () => {
    const right = apply(node({}), { labels: { a: '1' }, taints: [], unschedulable: false });
    expect(nodePatchFor(right, { labels: { a: '1' }, taints: [], unschedulable: false })).toBeUndefined();
    expect(
      nodePatchFor(node({}), { labels: { a: '1' }, taints: [], unschedulable: false })?.metadata,
    ).toMatchObject({ resourceVersion: '7' });
  });

  it('property: converges in one patch, never touches foreign labels, and is idempotent', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('x', 'y'), fc.string({ maxLength: 3 })),
        fc.array(
          fc.record({ labels: fc.dictionary(key, fc.constantFrom('1', '2')), unschedulable: fc.boolean() }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.boolean(),
        (foreign, steps, cordonedByPerson) => {
          let n = node({ ...foreign }, [], cordonedByPerson);
          for (const step of steps) {
            const desired = { labels: step.labels, taints: [], unschedulable: step.unschedulable };
            n = apply(n, desired);
            for (const [k, v] of Object.entries(desired.labels)) expect(n.metadata?.labels?.[k]).toBe(v);
            for (const [k, v] of Object.entries(foreign)) expect(n.metadata?.labels?.[k]).toBe(v);
            for (const k of ['a', 'b', 'c', 'd'])
              if (!(k in desired.labels)) expect(n.metadata?.labels?.[k]).toBeUndefined();
            if (step.unschedulable || cordonedByPerson) expect(n.spec?.unschedulable).toBe(true);
            expect(nodePatchFor(n, desired)).toBeUndefined();
          }
        },
      ),
    );
  });
});
