/** Pool membership from the indexed Machine cache agrees with isNodePoolMember over the whole fleet. */
import type { NodePool } from '@kok/api';
import { isNodePoolMember } from '@kok/rollout';
import { Informer } from '@kok/reconcile';
import { afterEach, expect, it } from 'vitest';
import { machineIndexers, poolMembers } from './pool-members.ts';
import { machineType } from './resources.ts';
import {
  createFleet,
  deleteFleet,
  installCrds,
  kubeletTemplate,
  SCOPE_LABEL,
  testClient,
} from '../test-support/fleet.ts';
import type { MachineObject } from '@kok/api';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const names = (machines: readonly MachineObject[]): string[] =>
  machines.map((m) => m.metadata?.name ?? '').sort();

it('finds the same members as a walk over every machine, for spec.pool, matchLabels and expression pools', async () => {
  await installCrds(client);
  const a = await createFleet(client, 3, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, a));
  const b = await createFleet(client, 2, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, b));
  const machines = new Informer<MachineObject>({
    client,
    type: machineType,
    labelSelector: `${SCOPE_LABEL} in (${a.scope},${b.scope})`,
    indexers: machineIndexers,
  });
  machines.start();
  cleanups.push(() => machines.stop());
  await machines.waitForSync();

  const pool = (name: string, selector?: NodePool['spec']['selector']): NodePool => ({
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name },
    spec: { template: kubeletTemplate('v1.36.0'), ...(selector ? { selector } : {}) },
  });
  const pools = [
    pool(a.pool),
    pool(b.pool),
    pool('by-labels', { matchLabels: { [SCOPE_LABEL]: b.scope } }),
    pool('by-expression', { matchExpressions: [{ key: SCOPE_LABEL, operator: 'In', values: [a.scope] }] }),
    pool('nobody'),
  ];
  for (const p of pools)
    expect(names(poolMembers(machines, p)), p.metadata?.name).toEqual(
      names(machines.list().filter((m) => isNodePoolMember(m, p))),
    );
  expect(names(poolMembers(machines, pools[0] as NodePool))).toEqual([...a.machines].sort());
  expect(names(poolMembers(machines, pools[2] as NodePool))).toEqual([...b.machines].sort());
});
