import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import type { Reconciler } from './controller.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.ts';
import type { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import { Manager } from './manager.ts';
import { withControllerReference } from './owner-references.ts';
import { generationChanged, or, labelsChanged, resourceVersionChanged } from './predicates.ts';
import { configMap, eventually, freshNamespace } from './test-support.ts';

const finalizer = 'kok.dev/copy-to-secret';

/** The sample: every ConfigMap is copied into an owned Secret `<name>-copy`. */
function copyToSecret(client: KubeClient, configMaps: Informer<V1ConfigMap>): Reconciler {
  return async (request, ctx) => {
    const cm = configMaps.getByName(request.namespace, request.name);
    if (!cm) return;
    const secretRef = { namespace: request.namespace, name: `${request.name}-copy` };
    if (cm.metadata?.deletionTimestamp) {
      if (!hasFinalizer(cm, finalizer)) return;
      await client.delete(builtinTypes.secret, secretRef);
      await removeFinalizer(client, builtinTypes.configMap, cm, finalizer);
      ctx.log.info('cleaned up');
      return;
    }
    const current = await addFinalizer(client, builtinTypes.configMap, cm, finalizer);
    const secret: V1Secret = withControllerReference(
      { metadata: secretRef, stringData: { ...cm.data } },
      current,
    );
    await client.apply(builtinTypes.secret, secret);
  };
}

let client: KubeClient;
let ns: string;
let manager: Manager;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  ns = await freshNamespace(client, 'sample');
  manager = new Manager({
    kubeConfig: sharedKubeConfig(),
    http: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  const configMaps = manager.informer(builtinTypes.configMap, { namespace: ns });
  const secrets = manager.informer(builtinTypes.secret, { namespace: ns });
  manager
    .controller({
      name: 'copy-to-secret',
      reconcile: copyToSecret(manager.client, configMaps),
      maxConcurrentReconciles: 2,
    })
    .watchPrimary(configMaps, or(generationChanged, labelsChanged, resourceVersionChanged))
    .watchOwned(secrets, { apiVersion: 'v1', kind: 'ConfigMap' });
  await manager.start();
});

afterAll(async () => {
  await manager?.stop();
  client?.close();
});

const secretData = async (name: string): Promise<Record<string, string> | undefined> => {
  const s = await client
    .get(builtinTypes.secret, { namespace: ns, name: `${name}-copy` })
    .catch(() => undefined);
  return (
    s &&
    Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))
  );
};

describe('sample controller: ConfigMap copied into an owned Secret', () => {
  it('creates, updates, repairs and deletes through a finalizer', async () => {
    await client.create(builtinTypes.configMap, configMap(ns, 'app', { color: 'blue' }));
    await eventually('the copy', async () => (await secretData('app'))?.color === 'blue');
    const cm = await client.get(builtinTypes.configMap, { namespace: ns, name: 'app' });
    expect(cm.metadata?.finalizers).toContain(finalizer);

    await client.patch(
      builtinTypes.configMap,
      { namespace: ns, name: 'app' },
      'application/merge-patch+json',
      { data: { color: 'green' } },
    );
    await eventually('the updated copy', async () => (await secretData('app'))?.color === 'green');

    // Owned watch: deleting the Secret reconciles its owner, which recreates it.
    await client.delete(builtinTypes.secret, { namespace: ns, name: 'app-copy' });
    await eventually('the recreated copy', async () => (await secretData('app'))?.color === 'green');

    await client.delete(builtinTypes.configMap, { namespace: ns, name: 'app' });
    await eventually('the ConfigMap to be gone', async () =>
      client.get(builtinTypes.configMap, { namespace: ns, name: 'app' }).then(
        () => false,
        () => true,
      ),
    );
    expect(await secretData('app')).toBeUndefined();
  });

  it('serves readiness and kok_ metrics with reconcile outcomes', async () => {
    const base = manager.address() as string;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/kok_reconcile_total\{controller="copy-to-secret",result="success"\} [1-9]/);
    expect(metrics).toContain('kok_reconcile_duration_seconds_bucket');
    expect(metrics).toContain('kok_workqueue_adds_total{name="copy-to-secret"}');
    expect(metrics).toMatch(/^process_resident_memory_bytes [1-9]/m);
  });
});

describe('garbage collection of owned objects', () => {
  it('kube-controller-manager deletes the Secret once its ConfigMap is gone without the controller', async () => {
    await client.create(builtinTypes.configMap, configMap(ns, 'orphaned', { k: 'v' }));
    await eventually('the copy', async () => (await secretData('orphaned'))?.k === 'v');
    await manager.stop();
    const cm = await client.get(builtinTypes.configMap, { namespace: ns, name: 'orphaned' });
    await removeFinalizer(client, builtinTypes.configMap, cm, finalizer);
    await client.delete(builtinTypes.configMap, { namespace: ns, name: 'orphaned' });
    await eventually(
      'garbage collection of the Secret',
      async () => (await secretData('orphaned')) === undefined,
      60_000,
    );
  }, 90_000);
});
