// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import type { V1ConfigMap } from '@kubernetes/client-node';
// The lib's public surface; other projects import it from '@kok/reconcile'.
import type { Informer, KubeClient, Reconciler } from './index.ts';
import { builtinTypes, Manager, PatchType } from './index.ts';
import { eventually, uniqueName } from '@kok/testing';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const keysAnnotation = 'example.kok.dev/keys';

/** Whatever event led here, make the ConfigMap's annotation say how many data keys it has. */
function countKeys(client: KubeClient, configMaps: Informer<V1ConfigMap>): Reconciler {
  return async (request, ctx) => {
    const configMap = configMaps.getByName(request.namespace, request.name); // the cache: no API call
    if (!configMap) return; // deleted: nothing left to do
    const keys = String(Object.keys(configMap.data ?? {}).length);
    if (configMap.metadata?.annotations?.[keysAnnotation] === keys) return; // already right
    // A failure here throws: the controller retries the request with a growing delay.
    await client.patch(builtinTypes.configMap, request, PatchType.merge, {
      metadata: { annotations: { [keysAnnotation]: keys } },
    });
    ctx.log.info({ keys }, 'annotated');
    // Returning nothing: done until the next change. `{ requeueAfter: ms }` would look again later.
  };
}

describe('a controller against the real apiserver', () => {
  const namespace = uniqueName('example');
  let manager: Manager;

  beforeAll(async () => {
    manager = new Manager({
      kubeConfig: sharedKubeConfig(),
      leaderElection: { namespace, name: 'count-keys', identity: 'example-1' },
      http: false, // no /healthz, /readyz, /metrics server in this example
      logger: pino({ level: 'silent' }),
    });
    await manager.client.create(builtinTypes.namespace, { metadata: { name: namespace } });
    const configMaps = manager.informer(builtinTypes.configMap, { namespace });
    manager
      .controller({ name: 'count-keys', reconcile: countKeys(manager.client, configMaps) })
      .watchPrimary(configMaps);
    await manager.start(); // caches synced; the controller runs once the Lease is ours
  });

  afterAll(async () => {
    await manager.client.delete(builtinTypes.namespace, { name: namespace });
    await manager.stop();
  });

  const annotation = async (name: string): Promise<string | undefined> =>
    (await manager.client.get(builtinTypes.configMap, { namespace, name })).metadata?.annotations?.[
      keysAnnotation
    ];

  it('holds the Lease while it runs', async () => {
    const lease = await eventually('the Lease', () =>
      manager.client.get(builtinTypes.lease, { namespace, name: 'count-keys' }),
    );
    expect(lease.spec?.holderIdentity).toBe('example-1');
    expect(manager.isLeader()).toBe(true);
  });

  it('keeps the annotation right, whoever changes the ConfigMap', async () => {
    await manager.client.create(builtinTypes.configMap, {
      metadata: { namespace, name: 'settings' },
      data: { color: 'blue', size: 'large' },
    });
    await eventually('the annotation "2"', async () => (await annotation('settings')) === '2');

    const settings = { namespace, name: 'settings' };
    await manager.client.patch(builtinTypes.configMap, settings, PatchType.merge, {
      data: { shape: 'round' },
    });
    await eventually('the annotation "3"', async () => (await annotation('settings')) === '3');

    // Level-based: a wrong value written by someone else is put right as well.
    await manager.client.patch(builtinTypes.configMap, settings, PatchType.merge, {
      metadata: { annotations: { [keysAnnotation]: '99' } },
    });
    await eventually('the annotation back at "3"', async () => (await annotation('settings')) === '3');
  });
});
// end of example

it('is the example README.md shows', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});
