/** The Machine controller against a real apiserver: once a Machine and its Node agree, reconciling again sends nothing. */
import type { Machine } from '@kok/api';
import { builtinTypes, Informer, isConflict, KubeClient, PatchType } from '@kok/reconcile';
import type { ReconcileContext } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { machineReconciler } from './machine-reconciler.ts';
import { machineType } from './resources.ts';
import {
  createFleet,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from './test-support/fleet.ts';

type MachineObject = Machine & KubernetesObject;

/** A real client that also notes every request it sends (`METHOD path`). */
class CountingClient extends KubeClient {
  readonly sent: string[] = [];

  override request<R>(
    method: string,
    path: string,
    options?: Parameters<KubeClient['request']>[2],
  ): Promise<R> {
    this.sent.push(`${method} ${path}`);
    return super.request<R>(method, path, options);
  }
}

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ctx: ReconcileContext = {
  log: pino({ level: 'silent' }),
  reconcileID: 'test',
  signal: new AbortController().signal,
};

it('writes a Machine and its Node once, then sends no request while nothing kok owns changes', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 3, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const machines = new Informer<MachineObject>({ client, type: machineType, labelSelector: fleet.selector });
  const nodes = new Informer<V1Node>({ client, type: builtinTypes.node, labelSelector: fleet.selector });
  for (const informer of [machines, nodes]) {
    informer.start();
    cleanups.push(() => informer.stop());
  }
  await machines.waitForSync();
  await nodes.waitForSync();
  const counting = new CountingClient(sharedKubeConfig(), { fieldManager: 'kok-node-operator' });
  const reconcile = machineReconciler({ client: counting, machines, nodes, now: () => new Date() });

  // First pass: the Node gets the pool label, the Machine its nodeRef and NodeHealthy. kwok may update a
  // fresh Node between the cache and the patch: the patch is guarded, and the work queue would retry it.
  // The status apply goes out beside the Node patch, so a retried machine may send both again.
  for (const name of fleet.machines)
    await eventually(`the first reconcile of ${name}`, async () => {
      try {
        await reconcile({ name }, ctx);
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  const nodePatches = counting.sent.filter((r) => r.startsWith('PATCH /api/v1/nodes/'));
  expect(new Set(nodePatches).size).toBe(3);
  expect(new Set(counting.sent.filter((r) => r.endsWith('/status'))).size).toBe(3);
  await eventually('the caches to show what was written', async () =>
    fleet.machines.every(
      (name) =>
        machines.getByName(undefined, name)?.status?.nodeRef?.name === name &&
        nodes.getByName(undefined, name)?.metadata?.labels?.['nodes.kok.dev/pool'] === fleet.pool,
    ),
  );

  counting.sent.length = 0;
  for (const name of fleet.machines) await reconcile({ name }, ctx);
  expect(counting.sent).toEqual([]);

  // A label someone else sets on the Node is nothing kok writes for.
  const name = fleet.machines[0] as string;
  const labelled = await client.patch(builtinTypes.node, { name }, PatchType.merge, {
    metadata: { labels: { 'team.example/owner': 'infra' } },
  });
  await eventually('the label in the cache', async () =>
    nodes.getByName(undefined, name)?.metadata?.resourceVersion === labelled.metadata?.resourceVersion
      ? true
      : undefined,
  );
  await reconcile({ name }, ctx);
  expect(counting.sent).toEqual([]);
});
