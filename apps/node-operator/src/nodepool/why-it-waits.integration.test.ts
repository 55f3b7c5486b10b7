/**
 * Why a machine waits, against the real control plane: a rollout whose first
 * drain a PodDisruptionBudget blocks names that budget in the Machine's
 * status.waitingFor, the next machine says it waits for room in the budget,
 * and `kubectl kok why machine` (the plugin run as a person runs it) prints
 * both; a machine that leaves the pool waits for nothing; once the budget
 * allows the eviction the rollout finishes and nothing waits any more. The
 * machines of a deleted pool wait for nothing either.
 */
import { templateRevision } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType, podDisruptionBudgetType } from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import { kubectlKok } from '../test-support/kubectl-kok.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  podOn,
  testClient,
  uniqueName,
} from '../test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('names the PodDisruptionBudget that blocks a drain and the full budget a machine waits for, in status.waitingFor and in kubectl kok why machine', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 2, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const [first, second] = fleet.machines as [string, string];
  const namespace = uniqueName('why');
  await client.create(builtinTypes.namespace, { metadata: { name: namespace } });
  cleanups.push(() => client.delete(builtinTypes.namespace, { name: namespace }));
  await eventually('the default ServiceAccount of the test namespace', async () => {
    await client.request('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`);
    return true;
  });
  const labels = { app: 'guarded' };
  await client.create(builtinTypes.pod, podOn(namespace, 'guarded', first, labels));
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
  await createPool(client, fleet, {
    template: kubeletTemplate('v1.36.0'),
    rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } } },
  });
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
  for (const name of fleet.machines)
    expect((await client.get(machineType, { name })).status?.waitingFor).toBeUndefined();

  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });
  const budget = `${namespace}/keep-it`;
  const { blocked, waiting } = await eventually('both machines to say what holds them', async () => {
    const machines = await Promise.all([
      client.get(machineType, { name: first }),
      client.get(machineType, { name: second }),
    ]);
    const [a, b] = machines.map((m) => m.status?.waitingFor);
    return a?.reason === 'DrainBlocked' && b?.reason === 'BudgetFull'
      ? { blocked: a, waiting: b }
      : undefined;
  });
  expect(blocked.message).toBe(
    `Its drain is blocked: PodDisruptionBudget ${budget} allows no disruption of pod ${namespace}/guarded now. ` +
      'The drain retries by itself; add replicas to that workload or relax the budget to let the pod go.',
  );
  expect(blocked.since).toBeDefined();
  expect(waiting.message).toContain(
    `Waiting for room in the disruption budget of NodePool "${fleet.pool}": maxUnavailable 1 is taken by`,
  );

  const whyFirst = await kubectlKok('why', 'machine', first);
  expect(whyFirst.stderr).toBe('');
  expect(whyFirst.code).toBe(0);
  expect(whyFirst.stdout).toContain(`Machine "${first}": being drained for revision`);
  expect(whyFirst.stdout).toContain(`DrainBlocked (for `);
  expect(whyFirst.stdout).toContain(`PodDisruptionBudget ${budget} allows no disruption`);
  const whySecond = await kubectlKok('why', 'machine', second);
  expect(whySecond.code).toBe(0);
  expect(whySecond.stdout).toContain('BudgetFull (for ');
  // The pool's own line names the machine that takes the one place.
  expect(whySecond.stdout).toMatch(new RegExp(`taken by ${first} \\(`));
  const whyPool = await kubectlKok('why', 'nodepool', fleet.pool, '-o', 'json');
  expect(whyPool.code).toBe(0);
  const reasons = (JSON.parse(whyPool.stdout) as { reasons: { reason: string; message: string }[] }).reasons;
  expect(reasons.find((r) => r.reason === 'DrainBlocked')?.message).toContain(`1 machine (${first})`);
  expect(reasons.find((r) => r.reason === 'BudgetFull')?.message).toContain(`1 machine (${second})`);

  // A machine that leaves the pool is held by no rollout any more: its waitingFor goes.
  await client.patch(machineType, { name: second }, PatchType.merge, { spec: { pool: null } });
  await eventually(
    `${second} to wait for nothing once it left the pool`,
    async () => (await client.get(machineType, { name: second })).status?.waitingFor === undefined,
  );

  await client.delete(podDisruptionBudgetType, { namespace, name: 'keep-it' });
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  await eventually(
    'the rollout to finish',
    async () => (await client.get(nodePoolType, { name: fleet.pool })).status?.currentRevision === target,
    60_000,
  );
  await eventually('nothing to wait any more', async () => {
    const machines = await Promise.all(fleet.machines.map((name) => client.get(machineType, { name })));
    return machines.every((m) => m.status?.waitingFor === undefined);
  });
  const whyDone = await kubectlKok('why', 'machine', first);
  expect(whyDone.stdout).toBe(
    `Machine "${first}": runs revision ${target}, the target of NodePool "${fleet.pool}"\n  Nothing holds it.\n`,
  );
});

it('takes waitingFor back from the machines of a deleted pool', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 2, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, { template: kubeletTemplate('v1.36.0'), paused: true });
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());

  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });
  await eventually('both machines to wait for the paused pool', async () => {
    const machines = await Promise.all(fleet.machines.map((name) => client.get(machineType, { name })));
    return machines.every((m) => m.status?.waitingFor?.reason === 'Paused');
  });

  // The Machines still name the pool in spec.pool, but no pool drives them: nothing holds them now.
  await client.delete(nodePoolType, { name: fleet.pool });
  await eventually('no machine to wait for the deleted pool', async () => {
    const machines = await Promise.all(fleet.machines.map((name) => client.get(machineType, { name })));
    return machines.every((m) => m.status?.waitingFor === undefined);
  });
});
