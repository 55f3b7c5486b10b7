import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ControlPlane } from '@kok/testing';
import { startControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import { objectKey } from './resource-type.ts';
import { configMap, eventually, freshNamespace } from './test-support.ts';

// A control plane of its own: these tests stop and start its apiserver.
let controlPlane: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  controlPlane = await startControlPlane();
  client = new KubeClient(controlPlane.kubeConfig, { qps: 100, burst: 200 });
}, 120_000);

afterAll(async () => {
  client?.close();
  await controlPlane?.stop();
});

function recorder(informer: Informer<V1ConfigMap>): { adds: string[]; updates: string[]; deletes: string[] } {
  const seen = { adds: [] as string[], updates: [] as string[], deletes: [] as string[] };
  informer.addEventHandler({
    onAdd: (o) => seen.adds.push(objectKey(o)),
    onUpdate: (_, o) => seen.updates.push(objectKey(o)),
    onDelete: (o) => seen.deletes.push(objectKey(o)),
  });
  return seen;
}

async function serverState(namespace: string): Promise<Record<string, string>> {
  const { items } = await client.list(builtinTypes.configMap, { namespace });
  return Object.fromEntries(items.map((cm) => [objectKey(cm), cm.metadata?.resourceVersion ?? '']));
}

function cacheState(informer: Informer<V1ConfigMap>): Record<string, string> {
  return Object.fromEntries(informer.list().map((cm) => [objectKey(cm), cm.metadata?.resourceVersion ?? '']));
}

describe('Informer against a real apiserver', () => {
  it('lists in pages, then delivers adds, updates and deletes; cached objects are frozen and trimmed', async () => {
    const ns = await freshNamespace(client, 'inf-basic');
    for (let i = 0; i < 5; i++)
      await client.create(
        builtinTypes.configMap,
        configMap(ns, `cm-${i}`, { i: `${i}` }, { app: i % 2 ? 'odd' : 'even' }),
      );
    const informer = new Informer({ client, type: builtinTypes.configMap, namespace: ns, pageSize: 2 });
    const seen = recorder(informer);
    informer.start();
    try {
      expect(await informer.waitForSync()).toBe(true);
      expect(informer.list()).toHaveLength(5);
      expect(seen.adds).toHaveLength(5);
      const cached = informer.getByName(ns, 'cm-1') as V1ConfigMap;
      expect(cached.metadata?.managedFields).toBeUndefined();
      expect(cached.kind).toBe('ConfigMap');
      expect(() => {
        (cached.data as Record<string, string>).i = 'changed';
      }).toThrow(TypeError);
      expect(informer.byIndex('label', 'app=odd').map(objectKey).sort()).toEqual([
        `${ns}/cm-1`,
        `${ns}/cm-3`,
      ]);

      await client.patch(
        builtinTypes.configMap,
        { namespace: ns, name: 'cm-1' },
        'application/merge-patch+json',
        { data: { i: 'x' } },
      );
      await client.delete(builtinTypes.configMap, { namespace: ns, name: 'cm-2' });
      await client.create(builtinTypes.configMap, configMap(ns, 'cm-new'));
      await eventually(
        'watch events',
        () => seen.deletes.length === 1 && seen.updates.length === 1 && seen.adds.length === 6,
      );
      expect(seen.updates).toEqual([`${ns}/cm-1`]);
      expect(seen.deletes).toEqual([`${ns}/cm-2`]);
      expect(informer.getByName(ns, 'cm-1')?.data?.i).toBe('x');
      expect(cacheState(informer)).toEqual(await serverState(ns));
    } finally {
      await informer.stop();
    }
  });

  it('filters with label and field selectors on the server', async () => {
    const ns = await freshNamespace(client, 'inf-select');
    await client.create(builtinTypes.configMap, configMap(ns, 'a', {}, { tier: 'web' }));
    await client.create(builtinTypes.configMap, configMap(ns, 'b', {}, { tier: 'db' }));
    await client.create(builtinTypes.configMap, configMap(ns, 'c', {}, { tier: 'web' }));
    const informer = new Informer({
      client,
      type: builtinTypes.configMap,
      namespace: ns,
      labelSelector: 'tier=web',
      fieldSelector: 'metadata.name!=c',
    });
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.keys()).toEqual([`${ns}/a`]);
    } finally {
      await informer.stop();
    }
  });

  it('relists after a 410 (resourceVersion older than a fresh watch cache) and delivers deletes missed meanwhile', async () => {
    const ns = await freshNamespace(client, 'inf-gone');
    for (let i = 0; i < 3; i++) await client.create(builtinTypes.configMap, configMap(ns, `cm-${i}`));
    const informer = new Informer({ client, type: builtinTypes.configMap, namespace: ns });
    const seen = recorder(informer);
    informer.start();
    await informer.waitForSync();
    await informer.stop();
    try {
      await client.delete(builtinTypes.configMap, { namespace: ns, name: 'cm-0' });
      await client.create(builtinTypes.configMap, configMap(ns, 'cm-new'));
      // A restarted apiserver's watch cache starts at the current revision,
      // so the informer's resourceVersion is now too old: the watch gets 410.
      await controlPlane.stopApiServer();
      await controlPlane.startApiServer();
      informer.start();
      const expected = await serverState(ns);
      await eventually(
        'the cache to equal the server',
        () => JSON.stringify(cacheState(informer)) === JSON.stringify(expected),
      );
      expect(informer.stats.lists).toBe(2);
      expect(seen.deletes).toEqual([`${ns}/cm-0`]);
      await client.create(builtinTypes.configMap, configMap(ns, 'after'));
      await eventually('an add after the relist', () => informer.getByName(ns, 'after'));
    } finally {
      await informer.stop();
    }
  }, 60_000);

  it('advances its resourceVersion from bookmarks while nothing it selects changes', async () => {
    const ns = await freshNamespace(client, 'inf-bookmark');
    const informer = new Informer({
      client,
      type: builtinTypes.configMap,
      namespace: ns,
      labelSelector: 'never=matches',
      // The apiserver sends a bookmark shortly before a watch's timeout.
      watchTimeoutSeconds: { min: 4, max: 4 },
    });
    informer.start();
    try {
      await informer.waitForSync();
      const listed = BigInt(informer.resourceVersion ?? '0');
      for (let i = 0; i < 3; i++) await client.create(builtinTypes.configMap, configMap(ns, `other-${i}`));
      await eventually(
        'a bookmark',
        () => informer.stats.bookmarks > 0 && BigInt(informer.resourceVersion ?? '0') > listed,
        20_000,
      );
      expect(informer.list()).toEqual([]);
    } finally {
      await informer.stop();
    }
  }, 30_000);

  it('survives the apiserver stopping mid-watch and delivers deletes that happened while disconnected', async () => {
    const ns = await freshNamespace(client, 'inf-restart');
    for (let i = 0; i < 4; i++) await client.create(builtinTypes.configMap, configMap(ns, `cm-${i}`));
    const informer = new Informer({
      client,
      type: builtinTypes.configMap,
      namespace: ns,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const seen = recorder(informer);
    informer.start();
    try {
      await informer.waitForSync();
      await controlPlane.stopApiServer();
      await new Promise((r) => setTimeout(r, 1500));
      await controlPlane.startApiServer();
      // Change the world before the informer necessarily reconnected.
      await client.delete(builtinTypes.configMap, { namespace: ns, name: 'cm-0' });
      await client.delete(builtinTypes.configMap, { namespace: ns, name: 'cm-1' });
      await client.patch(
        builtinTypes.configMap,
        { namespace: ns, name: 'cm-2' },
        'application/merge-patch+json',
        { data: { v: '2' } },
      );
      await client.create(builtinTypes.configMap, configMap(ns, 'cm-new'));
      const expected = await serverState(ns);
      await eventually(
        'the cache to equal the server',
        () => JSON.stringify(cacheState(informer)) === JSON.stringify(expected),
        30_000,
      );
      expect(seen.deletes.sort()).toEqual([`${ns}/cm-0`, `${ns}/cm-1`]);
      expect(informer.getByName(ns, 'cm-2')?.data?.v).toBe('2');
      expect(informer.stats.errors).toBeGreaterThan(0);
    } finally {
      await informer.stop();
    }
  }, 60_000);
});
