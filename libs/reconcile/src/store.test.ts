import type { KubernetesObject } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze, trimForCache } from './object-transform.ts';
import { objectKey } from './resource-type.ts';
import { builtinIndexers, IndexedStore, Indexes } from './store.ts';

const obj = (
  ns: string,
  name: string,
  labels: Record<string, string> = {},
  owners: string[] = [],
): KubernetesObject => ({
  metadata: {
    namespace: ns,
    name,
    labels,
    ownerReferences: owners.map((uid) => ({ uid, apiVersion: 'v1', kind: 'X', name: uid })),
  },
});

describe('IndexedStore', () => {
  it('finds objects by namespace, owner UID and label', () => {
    const store = new IndexedStore(builtinIndexers);
    store.upsert(obj('a', 'one', { app: 'x' }, ['u1']));
    store.upsert(obj('a', 'two', { app: 'y' }, ['u1', 'u2']));
    store.upsert(obj('b', 'one', { app: 'x' }));
    expect(store.byIndex(Indexes.namespace, 'a').map(objectKey).sort()).toEqual(['a/one', 'a/two']);
    expect(store.byIndex(Indexes.ownerUid, 'u1').map(objectKey).sort()).toEqual(['a/one', 'a/two']);
    expect(store.byIndex(Indexes.label, 'app=x').map(objectKey).sort()).toEqual(['a/one', 'b/one']);
    store.upsert(obj('a', 'one', { app: 'y' }));
    expect(store.byIndex(Indexes.label, 'app=x').map(objectKey)).toEqual(['b/one']);
    expect(store.byIndex(Indexes.ownerUid, 'u1').map(objectKey)).toEqual(['a/two']);
    store.remove('a/two');
    expect(store.byIndex(Indexes.ownerUid, 'u2')).toEqual([]);
    expect(() => store.byIndex('nope', 'x')).toThrow(/no index "nope"/);
  });

  it('keeps every index equal to a scan of its contents (property)', () => {
    const names = fc.constantFrom('n1', 'n2', 'n3');
    const action = fc.record({
      remove: fc.boolean(),
      ns: fc.constantFrom('a', 'b'),
      name: names,
      label: fc.constantFrom('x', 'y', 'z'),
      owner: fc.constantFrom('u1', 'u2'),
    });
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const store = new IndexedStore(builtinIndexers);
        const model = new Map<string, KubernetesObject>();
        for (const a of actions) {
          const o = obj(a.ns, a.name, { app: a.label }, [a.owner]);
          if (a.remove) {
            store.remove(objectKey(o));
            model.delete(objectKey(o));
          } else {
            store.upsert(o);
            model.set(objectKey(o), o);
          }
        }
        expect(store.size).toBe(model.size);
        for (const [index, fn] of Object.entries(builtinIndexers)) {
          for (const value of ['a', 'b', 'u1', 'u2', 'app=x', 'app=y', 'app=z']) {
            const expected = [...model.values()]
              .filter((o) => fn(o).includes(value))
              .map(objectKey)
              .sort();
            expect(store.byIndex(index, value).map(objectKey).sort()).toEqual(expected);
          }
        }
      }),
    );
  });
});

describe('cache transforms', () => {
  it('drops managedFields everywhere and status.images from Nodes', () => {
    const node = trimForCache({
      kind: 'Node',
      metadata: { name: 'n', managedFields: [{ manager: 'kubelet' }] },
      status: { images: [{ names: ['x'] }], capacity: { cpu: '1' } },
    } as KubernetesObject);
    expect(node).toEqual({ kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: '1' } } });
    const cm = trimForCache({
      kind: 'ConfigMap',
      metadata: { name: 'c', managedFields: [] },
      data: { a: 'b' },
    } as KubernetesObject);
    expect(cm).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  });

  it('deepFreeze makes nested objects immutable', () => {
    const frozen = deepFreeze({ metadata: { labels: { a: 'b' } }, list: [{ x: 1 }] });
    expect(() => {
      (frozen.metadata.labels as Record<string, string>).a = 'c';
    }).toThrow(TypeError);
    expect(() => (frozen.list as { x: number }[]).push({ x: 2 })).toThrow(TypeError);
    expect(Object.isFrozen(frozen.list[0])).toBe(true);
  });
});
