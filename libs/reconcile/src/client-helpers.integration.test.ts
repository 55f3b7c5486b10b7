import type { EventsV1Event, V1ConfigMap } from '@kubernetes/client-node';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidError, isAlreadyExists, NotFoundError } from './api-errors.ts';
import { builtinTypes } from './builtin-types.ts';
import { createOrPatch } from './create-or-patch.ts';
import { EventRecorder } from './event-recorder.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import { KubeClient } from './kube-client.ts';
import { withControllerReference } from './owner-references.ts';
import { configMap, freshNamespace } from './test-support.ts';

let client: KubeClient;
let ns: string;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200, fieldManager: 'kok-test' });
  ns = await freshNamespace(client, 'helpers');
});
afterAll(() => client?.close());

describe('client helpers against a real apiserver', () => {
  it('maps API failures to typed errors', async () => {
    await expect(
      client.get(builtinTypes.configMap, { namespace: ns, name: 'missing' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await client.create(builtinTypes.configMap, configMap(ns, 'dup'));
    const dup = await client.create(builtinTypes.configMap, configMap(ns, 'dup')).catch((e: unknown) => e);
    expect(isAlreadyExists(dup)).toBe(true);
    await expect(
      client.create(builtinTypes.configMap, configMap(ns, 'Not_A_Valid_Name')),
    ).rejects.toBeInstanceOf(InvalidError);
  });

  it('server-side applies with its field manager, idempotently', async () => {
    const first = await client.apply(builtinTypes.configMap, configMap(ns, 'applied', { a: '1' }));
    const again = await client.apply(builtinTypes.configMap, configMap(ns, 'applied', { a: '1' }));
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(again.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ['kok-test', 'Apply'],
    ]);
    const changed = await client.apply(builtinTypes.configMap, configMap(ns, 'applied', { b: '2' }));
    // Fields the manager no longer applies are removed.
    expect(changed.data).toEqual({ b: '2' });
  });

  it('adds and removes finalizers only against the resourceVersion it read', async () => {
    const cm = await client.create(builtinTypes.configMap, configMap(ns, 'fin'));
    const withFinalizer = await addFinalizer(client, builtinTypes.configMap, cm, 'kok.dev/test');
    expect(withFinalizer.metadata?.finalizers).toEqual(['kok.dev/test']);
    // cm is stale now: its resourceVersion precondition fails.
    await expect(addFinalizer(client, builtinTypes.configMap, cm, 'kok.dev/other')).rejects.toBeInstanceOf(
      ConflictError,
    );
    const without = await removeFinalizer(client, builtinTypes.configMap, withFinalizer, 'kok.dev/test');
    expect(without.metadata?.finalizers ?? []).toEqual([]);
  });

  it('createOrPatch creates, patches only differences, and reports no-ops', async () => {
    const ref = { namespace: ns, name: 'cop' };
    const set = (value: string) => (cm: V1ConfigMap) => ({ ...cm, data: { ...cm.data, key: value } });
    expect((await createOrPatch(client, builtinTypes.configMap, ref, set('1'))).result).toBe('created');
    expect((await createOrPatch(client, builtinTypes.configMap, ref, set('1'))).result).toBe('unchanged');
    const patched = await createOrPatch(client, builtinTypes.configMap, ref, set('2'));
    expect(patched.result).toBe('patched');
    expect(patched.object.data).toEqual({ key: '2' });
  });

  it('writes owner references that the apiserver accepts', async () => {
    const owner = await client.create(builtinTypes.configMap, configMap(ns, 'owner'));
    const owned = await client.create(
      builtinTypes.secret,
      withControllerReference(
        { metadata: { namespace: ns, name: 'owned' } },
        { ...owner, apiVersion: 'v1', kind: 'ConfigMap' },
      ),
    );
    expect(owned.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'owner',
        uid: owner.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('records events.k8s.io Events and counts repeats in series.count', async () => {
    const cm = await client.create(builtinTypes.configMap, configMap(ns, 'evented'));
    const recorder = new EventRecorder({ client, controller: 'kok.dev/test' });
    const regarding = { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
    for (let i = 0; i < 3; i++)
      await recorder.record(regarding, 'Warning', 'Stuck', 'Reconcile', 'cannot proceed');
    await recorder.record(regarding, 'Normal', 'Done', 'Reconcile', 'all good');
    const { items } = await client.list(builtinTypes.event, { namespace: ns });
    const byReason = Object.fromEntries(items.map((e: EventsV1Event) => [e.reason, e]));
    expect(items).toHaveLength(2);
    expect(byReason.Stuck?.series?.count).toBe(3);
    expect(byReason.Stuck?.regarding?.uid).toBe(cm.metadata?.uid);
    expect(byReason.Done?.series).toBeUndefined();
  });

  it('spaces requests at the client QPS once the burst is spent', async () => {
    const slow = new KubeClient(sharedKubeConfig(), { qps: 5, burst: 1 });
    try {
      const started = performance.now();
      for (let i = 0; i < 6; i++) await slow.get(builtinTypes.namespace, { name: ns });
      expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    } finally {
      slow.close();
    }
  });
});
