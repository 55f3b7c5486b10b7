/** The Machine controller against a real apiserver: once a Machine and its Node agree, reconciling again sends nothing. */
import { Finalizers, NODE_AGENT_GRANT_LABEL } from '@kok/api';
import type { NodePool } from '@kok/api';
import {
  builtinTypes,
  EventRecorder,
  Informer,
  isConflict,
  isNotFound,
  KubeClient,
  PatchType,
} from '@kok/reconcile';
import type { ReconcileContext } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { KubernetesObject, V1ClusterRoleBinding, V1Node, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Drainer } from '../shared/drainer.ts';
import { machineReconciler } from './machine-reconciler.ts';
import type { MachineDeps } from './machine-reconciler.ts';
import { machineType, nodePoolType } from '../shared/resources.ts';
import {
  createFleet,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from '../test-support/fleet.ts';
import type { MachineObject } from '@kok/api';

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

const silent = pino({ level: 'silent' });

/** Informers over the fleet, started and stopped with the test, and the reconciler's other parts. */
async function depsFor(fleet: { selector: string }, writer: KubeClient): Promise<MachineDeps> {
  const machines = new Informer<MachineObject>({ client, type: machineType, labelSelector: fleet.selector });
  const nodes = new Informer<V1Node>({ client, type: builtinTypes.node, labelSelector: fleet.selector });
  const pools = new Informer<NodePool & KubernetesObject>({ client, type: nodePoolType });
  const grants = new Informer<V1ClusterRoleBinding>({
    client,
    type: builtinTypes.clusterRoleBinding,
    labelSelector: NODE_AGENT_GRANT_LABEL,
  });
  for (const informer of [machines, nodes, pools, grants]) {
    informer.start();
    cleanups.push(() => informer.stop());
  }
  await Promise.all([machines.waitForSync(), nodes.waitForSync(), pools.waitForSync(), grants.waitForSync()]);
  const events = new EventRecorder({ client: writer, controller: 'kok.dev/node-operator', logger: silent });
  return {
    client: writer,
    rolloutStatusClient: writer,
    machines,
    nodes,
    pools,
    grants,
    drainer: new Drainer(writer, events, silent),
    events,
    now: () => new Date(),
  };
}

const ctx: ReconcileContext = {
  log: pino({ level: 'silent' }),
  reconcileID: 'test',
  signal: new AbortController().signal,
};

it('writes a Machine and its Node once, then sends no request while nothing kok owns changes', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 3, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const counting = new CountingClient(sharedKubeConfig(), { fieldManager: 'kok-node-operator' });
  const deps = await depsFor(fleet, counting);
  const { machines, nodes } = deps;
  const reconcile = machineReconciler(deps);

  // First pass: the Machine gets its finalizer, the Node the pool label and KokComponentFailed, the Machine its nodeRef,
  // NodeHealthy and phase. kwok may update a
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
  const nodePatches = counting.sent.filter((r) => /^PATCH \/api\/v1\/nodes\/[^/]+$/.test(r));
  expect(new Set(nodePatches).size).toBe(3);
  // The Node's status gets the agent's view (KokComponentFailed), the Machine's its nodeRef, conditions and phase.
  const nodeStatus = counting.sent.filter((r) => /^PATCH \/api\/v1\/nodes\/[^/]+\/status$/.test(r));
  expect(new Set(nodeStatus).size).toBe(3);
  expect(new Set(counting.sent.filter((r) => r.includes('/machines/') && r.endsWith('/status'))).size).toBe(
    3,
  );
  expect(
    new Set(counting.sent.filter((r) => /^PATCH \/apis\/nodes.kok.dev\/v1alpha1\/machines\/[^/]+$/.test(r)))
      .size,
  ).toBe(3);
  // Each Machine's agent got its grant, owned by that Machine.
  for (const name of fleet.machines) {
    const binding = await client.get(builtinTypes.clusterRoleBinding, { name: `system:node-agent:${name}` });
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `system:node-agent:${name}` },
    ]);
    expect(binding.metadata?.ownerReferences?.[0]?.uid).toBe(
      machines.getByName(undefined, name)?.metadata?.uid,
    );
  }
  await eventually('the caches to show what was written', async () =>
    fleet.machines.every(
      (name) =>
        deps.grants.getByName(undefined, `system:node-agent:${name}`) !== undefined &&
        machines.getByName(undefined, name)?.status?.nodeRef?.name === name &&
        machines.getByName(undefined, name)?.metadata?.finalizers?.includes(Finalizers.machine) === true &&
        nodes.getByName(undefined, name)?.metadata?.labels?.['nodes.kok.dev/pool'] === fleet.pool &&
        nodes.getByName(undefined, name)?.status?.conditions?.some((c) => c.type === 'KokComponentFailed') ===
          true,
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

it('lets a deleted Machine go only after its Node was cordoned, drained by eviction and deleted', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 1, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const name = fleet.machines[0] as string;
  const writer = new KubeClient(sharedKubeConfig(), { fieldManager: 'kok-node-operator' });
  const deps = await depsFor(fleet, writer);
  const reconcile = machineReconciler(deps);
  const pass = async () => {
    try {
      return await reconcile({ name }, ctx);
    } catch (error) {
      if (isConflict(error)) return undefined; // the work queue would retry
      throw error;
    }
  };
  await eventually('the finalizer', async () => {
    await pass();
    return deps.machines.getByName(undefined, name)?.metadata?.finalizers?.includes(Finalizers.machine);
  });
  // Admission refuses pods until kube-controller-manager has made the namespace's default ServiceAccount,
  // which on a control plane just started can take longer than the test took to get here.
  await eventually('the default ServiceAccount', async () => {
    await client.request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
    return true;
  });
  const pod = await client.create(builtinTypes.pod, {
    metadata: { name: `${name}-app`, namespace: 'default' },
    spec: { nodeName: name, containers: [{ name: 'app', image: 'kok.dev/test/busybox:1' }] },
  } as V1Pod);
  cleanups.push(async () => {
    await client
      .delete(builtinTypes.pod, { name: pod.metadata?.name ?? '', namespace: 'default' })
      .catch(() => undefined);
  });

  const grantName = `system:node-agent:${name}`;
  // The grant goes out beside the pass's other writes: a pass that lost a race on one of them may not have
  // finished it yet; the next pass writes it.
  const grantRole = await eventually('the agent grant', async () => {
    await pass();
    return client.get(builtinTypes.clusterRole, { name: grantName }).catch(() => undefined);
  });
  expect(grantRole.rules?.[0]?.resourceNames).toEqual([name]);
  // A second finalizer keeps the Machine after kok lets it go, so the garbage collector (which would remove
  // the grant once the Machine is gone) cannot be what removed the grant.
  const hold = 'test.kok.dev/hold';
  await client.patch(machineType, { name }, PatchType.json, [
    { op: 'add', path: '/metadata/finalizers/-', value: hold },
  ]);
  await client.delete(machineType, { name });
  let sawCordon = false;
  await eventually(
    'kok to let the Machine go',
    async () => {
      await pass();
      sawCordon ||=
        (await client.get(builtinTypes.node, { name }).catch(() => undefined))?.spec?.unschedulable === true;
      const machine = await client.get(machineType, { name });
      return !machine.metadata?.finalizers?.includes(Finalizers.machine);
    },
    60_000,
  );
  expect(sawCordon).toBe(true);
  // The agent's grant went before the Machine did: its certificate opens nothing of the Machine's any more.
  for (const type of [builtinTypes.clusterRoleBinding, builtinTypes.clusterRole])
    expect(await client.get(type, { name: grantName }).catch((error: unknown) => isNotFound(error))).toBe(
      true,
    );
  await client.patch(machineType, { name }, PatchType.json, [
    { op: 'test', path: '/metadata/finalizers/0', value: hold },
    { op: 'remove', path: '/metadata/finalizers/0' },
  ]);
  expect(await client.get(builtinTypes.node, { name }).catch((error: unknown) => isNotFound(error))).toBe(
    true,
  );
  // The pod left through the Eviction API: it carries DisruptionTarget (or is gone already).
  const left = await client
    .get(builtinTypes.pod, { name: `${name}-app`, namespace: 'default' })
    .catch(() => undefined);
  if (left)
    expect(left.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason).toBe(
      'EvictionByEvictionAPI',
    );
});
