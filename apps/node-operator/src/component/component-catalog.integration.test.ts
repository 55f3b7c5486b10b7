/**
 * The Component catalog against a real apiserver: the operator writes
 * Component.status (Accepted), and a NodePool whose template names a version
 * the catalog does not list, or a Component that is not Accepted, tells no
 * machine the new revision until the catalog is fixed, then rolls out by itself.
 */
import { ComponentConditions, findCondition, NodePoolConditions, templateRevision } from '@kok/api';
import type { Component, NodePool, NodePoolTemplate } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { componentType, machineType, nodePoolType } from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  testClient,
  testComponent,
} from '../test-support/fleet.ts';
import type { Fleet } from '../test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const getPool = (fleet: Fleet): Promise<NodePool & KubernetesObject> =>
  client.get(nodePoolType, { name: fleet.pool });
const getComponent = (name: string): Promise<Component & KubernetesObject> =>
  client.get(componentType, { name });
const pausedOf = async (fleet: Fleet) =>
  findCondition((await getPool(fleet)).status?.conditions, NodePoolConditions.Paused);

it('holds a rollout to a version the catalog lacks or a Component that is not Accepted, says why once, and rolls out once the catalog is fixed', async () => {
  await installCrds(client);
  // A catalog entry of this test's own, so its edits reach no other test's pools.
  const name = `agentd-${Date.now().toString(36)}`;
  const fleetTemplate = (version: string): NodePoolTemplate => ({ components: [{ name, version }] });
  await client.create(componentType, testComponent(name, ['v1.0.0', 'v1.0.1']));
  cleanups.push(() => client.delete(componentType, { name }));
  const fleet = await createFleet(client, 3, fleetTemplate('v1.0.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, {
    template: fleetTemplate('v1.0.0'),
    rollout: { strategy: { rollingUpdate: { maxUnavailable: 3 } } },
  });
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());
  const settledAt = (revision: string) =>
    eventually(`pool at revision ${revision}`, async () => {
      const pool = await getPool(fleet);
      return pool.status?.currentRevision === revision && pool.status.updatedMachines === 3;
    });
  await settledAt(templateRevision(fleetTemplate('v1.0.0')));

  // Component.status: Accepted, for the generation it judged.
  const accepted = await eventually('Component Accepted', async () => {
    const c = await getComponent(name);
    return findCondition(c.status?.conditions, ComponentConditions.Accepted)?.status === 'True'
      ? c
      : undefined;
  });
  expect(accepted.status?.observedGeneration).toBe(accepted.metadata?.generation);
  expect(findCondition(accepted.status?.conditions, ComponentConditions.Accepted)?.reason).toBe('Valid');

  // A typo in the version: the pool says exactly what is wrong, and no machine is told.
  const typo = templateRevision(fleetTemplate('v1.0.2'));
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: fleetTemplate('v1.0.2') },
  });
  const held = await eventually('the pool held for VersionNotFound', async () => {
    const paused = await pausedOf(fleet);
    return paused?.status === 'True' && paused.reason === 'VersionNotFound' ? paused : undefined;
  });
  expect(held.message).toContain(`NodePool "${fleet.pool}" holds revision ${typo}`);
  expect(held.message).toContain(
    `${name} v1.0.2: Component "${name}" lists no version v1.0.2 (it has v1.0.0, v1.0.1)`,
  );
  const pool = await getPool(fleet);
  expect(findCondition(pool.status?.conditions, NodePoolConditions.Degraded)).toMatchObject({
    status: 'True',
    reason: 'VersionNotFound',
  });
  // Several passes later (Machine and Node events, the 1 s pass interval), still nobody was told.
  await new Promise((r) => setTimeout(r, 2_500));
  const machines = (await client.list(machineType, { labelSelector: fleet.selector })).items;
  expect(machines.map((m) => m.spec?.revision)).toEqual(
    Array(3).fill(templateRevision(fleetTemplate('v1.0.0'))),
  );
  // Each Machine says the catalog holds it, not merely that the pool is paused.
  for (const machine of machines)
    expect(machine.status?.waitingFor).toMatchObject({
      reason: 'CatalogProblem',
      message: expect.stringContaining(
        `(VersionNotFound): ${name} v1.0.2: Component "${name}" lists no version v1.0.2`,
      ),
    });
  const warnings = async (reason: string) =>
    (await client.list(builtinTypes.event, { fieldSelector: `regarding.name=${fleet.pool}` })).items.filter(
      (e) => e.reason === reason,
    );
  await eventually('the VersionNotFound Warning', async () => (await warnings('VersionNotFound')).length > 0);
  expect((await warnings('VersionNotFound')).map((e) => [e.type, e.note])).toEqual([
    ['Warning', held.message],
  ]);

  // The catalog gets the version: the rollout resumes by itself.
  await client.patch(componentType, { name }, PatchType.merge, {
    spec: { versions: testComponent(name, ['v1.0.0', 'v1.0.1', 'v1.0.2']).spec.versions },
  });
  await settledAt(typo);
  expect((await pausedOf(fleet))?.status).toBe('False');

  // A pattern the agent cannot compile: the Component is not Accepted, and a pool naming it is held.
  await client.patch(componentType, { name }, PatchType.merge, {
    spec: { versionCheck: { command: ['agentd', '--version'], pattern: 'v(?P<v>[0-9.]+)' } },
  });
  const rejected = await eventually('Component Accepted False', async () => {
    const c = await getComponent(name);
    const condition = findCondition(c.status?.conditions, ComponentConditions.Accepted);
    return condition?.status === 'False' && c.status?.observedGeneration === c.metadata?.generation
      ? condition
      : undefined;
  });
  expect(rejected.reason).toBe('InvalidVersionPattern');
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: fleetTemplate('v1.0.1') },
  });
  const notAccepted = await eventually('the pool held for ComponentNotAccepted', async () => {
    const paused = await pausedOf(fleet);
    return paused?.reason === 'ComponentNotAccepted' ? paused : undefined;
  });
  expect(notAccepted.message).toContain(`Component "${name}" is not Accepted (InvalidVersionPattern:`);
  const stillTypo = (await client.list(machineType, { labelSelector: fleet.selector })).items;
  expect(stillTypo.every((m) => m.spec?.revision === typo)).toBe(true);

  await client.patch(componentType, { name }, PatchType.merge, {
    spec: { versionCheck: { command: ['agentd', '--version'], pattern: 'v([0-9.]+)' } },
  });
  await settledAt(templateRevision(fleetTemplate('v1.0.1')));
  await eventually(
    'Component Accepted again',
    async () =>
      findCondition((await getComponent(name)).status?.conditions, ComponentConditions.Accepted)?.status ===
      'True',
  );
});
