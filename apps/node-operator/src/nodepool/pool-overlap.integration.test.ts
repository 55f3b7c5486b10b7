/**
 * Two NodePools whose selectors share a Machine, against a real apiserver:
 * the older pool drives it, the younger leaves it alone (its revision does not
 * flip between the two templates), both say so in MachinesOverlap, and the
 * machine is driven normally once the overlap is gone.
 */
import { findCondition, NodePoolConditions, templateRevision } from '@kok/api';
import type { Condition, NodePool } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { EventsV1Event, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType } from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  SCOPE_LABEL,
  testClient,
} from '../test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SHARED_LABEL = 'kok-test-shared';

it('lets the older of two overlapping pools drive the shared machine, tells both, and clears once they part', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 2, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const [shared, other] = fleet.machines as [string, string];
  await client.patch(machineType, { name: shared }, PatchType.merge, {
    metadata: { labels: { [SHARED_LABEL]: 'yes' } },
  });
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());

  const oldRevision = templateRevision(kubeletTemplate('v1.36.0'));
  const youngRevision = templateRevision(kubeletTemplate('v1.36.1'));
  const createPool = async (name: string, version: string, selector: Record<string, string>) => {
    await client.create(nodePoolType, {
      apiVersion: nodePoolType.apiVersion,
      kind: nodePoolType.kind,
      metadata: { name, labels: { [SCOPE_LABEL]: fleet.scope } },
      spec: { template: kubeletTemplate(version), selector: { matchLabels: selector } },
    } as NodePool & KubernetesObject);
    cleanups.push(() => client.delete(nodePoolType, { name }));
  };
  // Names against the rule's tie-break: only the creation times make "old" the older.
  const old = `${fleet.scope}-z-old`;
  const young = `${fleet.scope}-a-young`;
  await createPool(old, 'v1.36.0', { [SCOPE_LABEL]: fleet.scope });
  await new Promise((r) => setTimeout(r, 1_100));
  await createPool(young, 'v1.36.1', { [SCOPE_LABEL]: fleet.scope, [SHARED_LABEL]: 'yes' });

  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    poolPassIntervalMs: 200,
    logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());

  const overlapOf = async (name: string): Promise<Condition | undefined> =>
    findCondition(
      (await client.get(nodePoolType, { name })).status?.conditions,
      NodePoolConditions.MachinesOverlap,
    );
  const lost = await eventually('the younger pool to say it lost the shared machine', async () => {
    const condition = await overlapOf(young);
    return condition?.reason === 'SelectorOverlap' ? condition : undefined;
  });
  expect(lost.status).toBe('True');
  expect(lost.message).toContain(`1 selected machines are driven by other pools`);
  expect(lost.message).toContain(shared);
  expect(lost.message).toContain(old);
  const kept = await eventually('the older pool to say it keeps it', async () => {
    const condition = await overlapOf(old);
    return condition?.reason === 'OverlapKept' ? condition : undefined;
  });
  expect(kept.status).toBe('True');
  expect(kept.message).toContain(young);
  expect((await client.get(nodePoolType, { name: young })).status?.machines).toBe(0);
  expect((await client.get(nodePoolType, { name: old })).status?.machines).toBe(2);

  // Several passes of both pools (each poke is a pool event): the shared machine never leaves the old revision.
  for (let pass = 0; pass < 5; pass++) {
    for (const name of [old, young])
      await client.patch(nodePoolType, { name }, PatchType.merge, {
        metadata: { annotations: { 'kok-test-poke': String(pass) } },
      });
    await new Promise((r) => setTimeout(r, 600));
    const machine = await client.get(machineType, { name: shared });
    expect(machine.spec?.revision, `pass ${pass}`).toBe(oldRevision);
    expect((await client.get(builtinTypes.node, { name: shared })).spec?.unschedulable).not.toBe(true);
  }
  const warnings = await eventually('a SelectorOverlap Warning on the younger pool', async () => {
    const events = await client.list(builtinTypes.event, { fieldSelector: `regarding.name=${young}` });
    const found = events.items.filter((e: EventsV1Event) => e.reason === 'SelectorOverlap');
    return found.length > 0 ? found : undefined;
  });
  expect(warnings.map((e: EventsV1Event) => e.type)).toEqual(['Warning']);

  // The younger pool stops selecting the shared machine: both conditions clear.
  await client.patch(nodePoolType, { name: young }, PatchType.merge, {
    spec: { selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope, [SHARED_LABEL]: 'no' } } },
  });
  for (const name of [young, old])
    await eventually(`${name}'s MachinesOverlap to clear`, async () => {
      const condition = await overlapOf(name);
      return condition?.status === 'False' && condition.reason === 'NoOverlap';
    });

  // Overlapping again, then the older pool goes: the younger one now drives the machine to its revision.
  await client.patch(nodePoolType, { name: young }, PatchType.merge, {
    spec: { selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope, [SHARED_LABEL]: 'yes' } } },
  });
  await eventually(
    'the older pool to keep it again',
    async () => (await overlapOf(old))?.reason === 'OverlapKept',
  );
  await client.delete(nodePoolType, { name: old });
  await eventually('the younger pool to drive the shared machine', async () => {
    const machine = await client.get(machineType, { name: shared });
    return machine.spec?.revision === youngRevision && machine.status?.revision?.current === youngRevision;
  });
  await eventually('its MachinesOverlap to clear', async () => (await overlapOf(young))?.status === 'False');
  expect((await client.get(machineType, { name: other })).spec?.revision).toBe(oldRevision);
});
