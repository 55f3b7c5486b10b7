/**
 * Drain through the Eviction API: a pod on the node is evicted while a
 * PodDisruptionBudget keeps a second one; the machine waits (no force) and
 * says why, and once the budget allows it the drain and the update finish.
 */
import { findCondition, MachineConditions, templateRevision } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from './operator.ts';
import { machineType, nodePoolType, podDisruptionBudgetType } from './resources.ts';
import { AgentSimulator } from './test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
  podOn,
  uniqueName,
} from './test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('evicts a pod while a PDB blocks a second one, waits without forcing, and finishes once the PDB allows it', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 1, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const node = fleet.machines[0] as string;
  const namespace = uniqueName('drain');
  await client.create(builtinTypes.namespace, { metadata: { name: namespace } });
  cleanups.push(() => client.delete(builtinTypes.namespace, { name: namespace }));
  const labels = { app: 'guarded' };
  await client.create(builtinTypes.pod, podOn(namespace, 'guarded-a', node, labels));
  await client.create(builtinTypes.pod, podOn(namespace, 'guarded-b', node, labels));
  await client.create(podDisruptionBudgetType, {
    metadata: { namespace, name: 'keep-one' },
    spec: { minAvailable: 1, selector: { matchLabels: labels } },
  });
  await eventually('the PDB to allow exactly one disruption', async () => {
    const pdb = await client.get(podDisruptionBudgetType, { namespace, name: 'keep-one' });
    return pdb.status?.disruptionsAllowed === 1 && pdb.status.currentHealthy === 2;
  });

  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, { template: kubeletTemplate('v1.36.0') });
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());
  const old = templateRevision(kubeletTemplate('v1.36.0'));
  await eventually(
    'the pool to settle',
    async () => (await client.get(nodePoolType, { name: fleet.pool })).status?.currentRevision === old,
  );

  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });
  const blocked = await eventually('one pod evicted and the other held by the PDB', async () => {
    const pods = (await client.list(builtinTypes.pod, { namespace })).items;
    const machine = await client.get(machineType, { name: node });
    const drained = findCondition(machine.status?.conditions, MachineConditions.Drained);
    return pods.length === 1 && drained?.reason === 'DrainBlocked' ? { pods, machine, drained } : undefined;
  });
  expect(blocked.drained.status).toBe('False');
  expect(blocked.drained.message).toContain(`${namespace}/${blocked.pods[0]?.metadata?.name}`);
  expect((await client.get(builtinTypes.node, { name: node })).spec?.unschedulable).toBe(true);
  // Held: the PDB keeps the second pod, so the machine is not told the new revision.
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(1);
  expect((await client.get(machineType, { name: node })).spec?.revision).toBe(old);

  await client.delete(podDisruptionBudgetType, { namespace, name: 'keep-one' });
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  await eventually('the drain and the update to finish', async () => {
    const pool = await client.get(nodePoolType, { name: fleet.pool });
    return pool.status?.currentRevision === target;
  });
  expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(0);
  await eventually(
    'the Node uncordoned',
    async () => (await client.get(builtinTypes.node, { name: node })).spec?.unschedulable !== true,
  );
});
