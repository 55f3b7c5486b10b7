/**
 * Drain through the Eviction API: a pod on the node is evicted while a
 * PodDisruptionBudget keeps a second one; the machine waits (no force) and
 * says why, and once the budget allows it the drain and the update finish.
 * A drain that outlasts drain.timeoutSeconds fails the machine against
 * maxFailed: the pool pauses while the drain goes on, or rolls back and gives
 * the machine its cordon back.
 */
import { findCondition, MachineConditions, NodePoolConditions, templateRevision } from '@kok/api';
import type { NodePool } from '@kok/api';
import { builtinTypes, Informer, PatchType } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType, OperatorAnnotations, podDisruptionBudgetType } from './resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
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
} from '../test-support/fleet.ts';
import type { Fleet } from '../test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh namespace, once its default ServiceAccount exists (admission refuses pods before that). */
async function testNamespace(): Promise<string> {
  const namespace = uniqueName('drain');
  await client.create(builtinTypes.namespace, { metadata: { name: namespace } });
  cleanups.push(() => client.delete(builtinTypes.namespace, { name: namespace }));
  await eventually('the default ServiceAccount of the test namespace', async () => {
    await client.request('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`);
    return true;
  });
  return namespace;
}

it('evicts a pod while a PDB blocks a second one, waits without forcing, and finishes once the PDB allows it', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 1, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const node = fleet.machines[0] as string;
  const namespace = await testNamespace();
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

  const failedPasses = async () =>
    (await manager.metrics.reconcileErrors.get()).values.find((v) => v.labels.controller === 'nodepool')
      ?.value ?? 0;
  const failedBefore = await failedPasses();

  await client.delete(podDisruptionBudgetType, { namespace, name: 'keep-one' });
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  // The mark lasts until the update is done; the revision, told only after it, stays.
  await eventually('the machine marked drained', async () => {
    const machine = await client.get(machineType, { name: node });
    return (
      machine.metadata?.annotations?.[OperatorAnnotations.drained] === target ||
      machine.spec?.revision === target
    );
  });
  // Drained, the pass wrote the Drained condition and then marked the machine drained by a patch guarded by
  // the resourceVersion observed before that write: it failed with a conflict every time, and the update
  // waited for a retried pass. Nobody else writes the Machine from the blocked drain to that mark (the
  // phase the Machine controller writes follows the mark).
  expect((await failedPasses()) - failedBefore).toBe(0);
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

/**
 * One machine with one pod that a PodDisruptionBudget allows no disruption of,
 * its pool settled at v1.36.0 with `spec`, and the operator running.
 */
async function guardedMachine(spec: Omit<NodePool['spec'], 'template'>): Promise<{
  fleet: Fleet;
  node: string;
  namespace: string;
}> {
  await installCrds(client);
  const fleet = await createFleet(client, 1, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const node = fleet.machines[0] as string;
  const namespace = await testNamespace();
  const labels = { app: 'guarded' };
  await client.create(builtinTypes.pod, podOn(namespace, 'guarded', node, labels));
  await client.create(podDisruptionBudgetType, {
    metadata: { namespace, name: 'keep-it' },
    spec: { minAvailable: 1, selector: { matchLabels: labels } },
  });
  await eventually('the PDB to allow no disruption of the running pod', async () => {
    const pdb = await client.get(podDisruptionBudgetType, { namespace, name: 'keep-it' });
    return pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0;
  });
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, { template: kubeletTemplate('v1.36.0'), ...spec });
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
  return { fleet, node, namespace };
}

it('fails a machine whose drain outlasts drain.timeoutSeconds: the pool pauses (maxFailed 0), the drain goes on, and the update finishes once the PDB allows it', async () => {
  const { fleet, node, namespace } = await guardedMachine({
    rollout: { maxFailed: 0 },
    drain: { timeoutSeconds: 3 },
  });
  const old = templateRevision(kubeletTemplate('v1.36.0'));
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });

  const pool = await eventually('the pool to pause for the drain that timed out', async () => {
    const p = await client.get(nodePoolType, { name: fleet.pool });
    return findCondition(p.status?.conditions, NodePoolConditions.Paused)?.reason === 'TooManyFailures'
      ? p
      : undefined;
  });
  const paused = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
  expect(paused?.message).toContain(
    `${node} (DrainTimeout, drain for revision ${target} not done 3s after it began: waiting for ${namespace}/guarded (eviction refused`,
  );
  expect(paused?.message).toContain('maxFailed 0');
  expect(pool.status?.failedMachines).toBe(1);
  const machine = await client.get(machineType, { name: node });
  expect(findCondition(machine.status?.conditions, MachineConditions.Drained)?.reason).toBe('DrainTimeout');
  // Never forced, never told the new revision; still cordoned, so the drain can go on.
  expect(machine.spec?.revision).toBe(old);
  expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(1);
  expect((await client.get(builtinTypes.node, { name: node })).spec?.unschedulable).toBe(true);

  await client.delete(podDisruptionBudgetType, { namespace, name: 'keep-it' });
  await eventually('the drain and the update to finish', async () => {
    const p = await client.get(nodePoolType, { name: fleet.pool });
    return p.status?.currentRevision === target;
  });
  expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(0);
  await eventually(
    'the Node uncordoned',
    async () => (await client.get(builtinTypes.node, { name: node })).spec?.unschedulable !== true,
  );
});

it('rolls back a pool whose drain timed out (autoRollback): the machine, never changed, gets its cordon back and keeps its pod', async () => {
  const { fleet, node, namespace } = await guardedMachine({
    rollout: { maxFailed: 0, autoRollback: true },
    drain: { timeoutSeconds: 3 },
  });
  const old = templateRevision(kubeletTemplate('v1.36.0'));
  // The cordon lasts only until the rollback (3 s of drain and a pass): a poll from a loaded test process
  // may miss it, a watch sees every version of the Node.
  let sawCordon = false;
  const nodes = new Informer<V1Node>({
    client,
    type: builtinTypes.node,
    fieldSelector: `metadata.name=${node}`,
  });
  const see = (n: V1Node) => {
    sawCordon ||= n.spec?.unschedulable === true;
  };
  nodes.addEventHandler({ onAdd: see, onUpdate: (_, n) => see(n) });
  nodes.start();
  cleanups.push(() => nodes.stop());
  await nodes.waitForSync();
  expect(sawCordon).toBe(false);
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.2') },
  });
  await eventually('the rollout to cordon the machine', () => sawCordon);

  const pool = await eventually('the pool to roll back', async () => {
    const p = await client.get(nodePoolType, { name: fleet.pool });
    return findCondition(p.status?.conditions, NodePoolConditions.RolledBack)?.status === 'True'
      ? p
      : undefined;
  });
  expect(findCondition(pool.status?.conditions, NodePoolConditions.RolledBack)?.message).toContain(
    `${node} (DrainTimeout`,
  );
  await eventually(
    'the Node uncordoned',
    async () => (await client.get(builtinTypes.node, { name: node })).spec?.unschedulable !== true,
  );
  const machine = await client.get(machineType, { name: node });
  expect(machine.spec?.revision).toBe(old);
  expect(machine.metadata?.annotations?.[OperatorAnnotations.cordonedByRollout]).toBeUndefined();
  expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(1);
  const after = await client.get(nodePoolType, { name: fleet.pool });
  expect(after.status?.currentRevision).toBe(old);
  expect(findCondition(after.status?.conditions, NodePoolConditions.Paused)?.reason).toBe('RolledBack');
});
