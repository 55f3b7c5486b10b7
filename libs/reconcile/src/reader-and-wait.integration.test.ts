import type { V1ConfigMap } from '@kubernetes/client-node';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import type { Reader } from './reader.ts';
import { apiReader } from './reader.ts';
import { objectKey } from './resource-type.ts';
import { resourceVersionAtLeast } from './resource-version.ts';
import { configMap, freshNamespace } from './test-support.ts';

let client: KubeClient;
let ns: string;
let informer: Informer<V1ConfigMap>;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  ns = await freshNamespace(client, 'reader');
  await client.create(builtinTypes.configMap, configMap(ns, 'kept', { v: '1' }));
  await client.create(builtinTypes.configMap, configMap(ns, 'deleted'));
  informer = new Informer({ client, type: builtinTypes.configMap, namespace: ns });
  informer.start();
  await informer.waitForSync();
});
afterAll(async () => {
  await informer?.stop();
  client?.close();
});

describe('Informer.waitFor', () => {
  it('resolves once the cache shows what was written, updated, created or deleted', async () => {
    const updated = await client.patch(
      builtinTypes.configMap,
      { namespace: ns, name: 'kept' },
      'application/merge-patch+json',
      { data: { v: '2' } },
    );
    const created = await client.create(builtinTypes.configMap, configMap(ns, 'created'));
    await client.delete(builtinTypes.configMap, { namespace: ns, name: 'deleted' });
    const written = new Map([
      [objectKey(updated), updated.metadata?.resourceVersion ?? ''],
      [objectKey(created), created.metadata?.resourceVersion ?? ''],
      // A deleted object counts as seen once the cache no longer holds it.
      [`${ns}/deleted`, updated.metadata?.resourceVersion ?? ''],
    ]);
    expect(await informer.waitFor(written, { timeoutMs: 10_000 })).toBe(true);
    expect(informer.getByName(ns, 'kept')?.data?.v).toBe('2');
    for (const [key, version] of written) {
      const cached = informer.get(key);
      if (key.endsWith('/deleted')) expect(cached).toBeUndefined();
      else expect(resourceVersionAtLeast(cached?.metadata?.resourceVersion, version)).toBe(true);
    }
  });

  it('answers true at once for what the cache already shows', async () => {
    const kept = informer.getByName(ns, 'kept') as V1ConfigMap;
    const aborted = AbortSignal.abort();
    const written = new Map([[objectKey(kept), kept.metadata?.resourceVersion ?? '']]);
    expect(await informer.waitFor(written, { signal: aborted })).toBe(true);
  });

  it('gives up with false after its timeout, or when its signal aborts', async () => {
    const kept = informer.getByName(ns, 'kept') as V1ConfigMap;
    const future = String(BigInt(kept.metadata?.resourceVersion ?? '0') + 10n ** 12n);
    const written = new Map([[objectKey(kept), future]]);
    const started = Date.now();
    expect(await informer.waitFor(written, { timeoutMs: 300 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const abort = new AbortController();
    const waiting = informer.waitFor(written, { timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    expect(await waiting).toBe(false);
  });
});

describe('Reader', () => {
  // The same read-only function, served by the cache and by the apiserver.
  const dataOf = async (reader: Reader<V1ConfigMap>, name: string) =>
    (await reader.getByName(ns, name))?.data;
  const namesIn = async (reader: Reader<V1ConfigMap>) =>
    (await reader.list(ns)).map((cm) => cm.metadata?.name).sort();

  it('answers get and list alike from the cache and from the apiserver', async () => {
    const written = await client.create(builtinTypes.configMap, configMap(ns, 'both', { k: 'v' }));
    await informer.waitFor(new Map([[objectKey(written), written.metadata?.resourceVersion ?? '']]));
    const fromApi = apiReader(client, builtinTypes.configMap);
    expect(await dataOf(informer, 'both')).toEqual({ k: 'v' });
    expect(await dataOf(fromApi, 'both')).toEqual({ k: 'v' });
    expect(await dataOf(informer, 'missing')).toBeUndefined();
    expect(await dataOf(fromApi, 'missing')).toBeUndefined();
    expect(await namesIn(fromApi)).toEqual(await namesIn(informer));
    expect(await namesIn(fromApi)).toContain('both');
  });
});
