/**
 * NodePool.spec.rollout.healthGates against a real apiserver with kwok Nodes:
 * a Node condition set the way node-problem-detector sets it holds the
 * machine that runs the new revision, fails it at the progress deadline
 * naming the gate, and clearing it lets the rollout finish.
 */
import { findCondition, NodePoolConditions, templateRevision } from '@kok/api';
import type { NodePool } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType } from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from '../test-support/fleet.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What node-problem-detector does: patch the Node's status with its KernelDeadlock condition. */
async function setKernelDeadlock(node: string, status: 'True' | 'False'): Promise<void> {
  const time = new Date().toISOString();
  await client.patch(
    builtinTypes.node,
    { name: node },
    PatchType.strategicMerge,
    {
      status: {
        conditions: [
          {
            type: 'KernelDeadlock',
            status,
            reason: status === 'True' ? 'DockerHung' : 'KernelHasNoDeadlock',
            message:
              status === 'True'
                ? 'task docker:7 blocked for more than 120 seconds'
                : 'kernel has no deadlock',
            lastHeartbeatTime: time,
            lastTransitionTime: time,
          },
        ],
      },
    } as unknown as V1Node,
    { subresource: 'status' },
  );
}

it('holds a machine whose Node fails a health gate: it keeps its place, fails at the progress deadline naming the gate, and the rollout finishes once the condition clears', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 2, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const old = templateRevision(kubeletTemplate('v1.36.0'));
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  const [deadlocked, healthy] = fleet.machines as [string, string];
  for (const node of fleet.machines) await setKernelDeadlock(node, 'False');

  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, {
    template: kubeletTemplate('v1.36.0'),
    rollout: {
      strategy: { rollingUpdate: { maxUnavailable: 1 } },
      maxFailed: 0,
      progressDeadlineSeconds: 4,
      healthGates: [{ type: 'KernelDeadlock', status: 'False' }],
    },
  });
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());
  const getPool = (): Promise<NodePool & KubernetesObject> => client.get(nodePoolType, { name: fleet.pool });
  const settledAt = (revision: string) =>
    eventually(
      `the pool at revision ${revision}`,
      async () => (await getPool()).status?.currentRevision === revision,
    );
  await settledAt(old);

  await setKernelDeadlock(deadlocked, 'True');
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });
  const pool = await eventually('the pool to pause for the machine that fails its gate', async () => {
    const p = await getPool();
    return findCondition(p.status?.conditions, NodePoolConditions.Paused)?.reason === 'TooManyFailures'
      ? p
      : undefined;
  });
  const paused = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
  expect(paused?.message).toContain(`${deadlocked} (ProgressDeadlineExceeded`);
  expect(paused?.message).toContain(
    'health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked for more than 120 seconds)',
  );
  // It runs the new revision, yet it is not done: it kept its cordon and the only place in the budget.
  const held = await client.get(machineType, { name: deadlocked });
  expect(held.spec?.revision).toBe(target);
  expect(held.status?.revision?.current).toBe(target);
  expect((await client.get(builtinTypes.node, { name: deadlocked })).spec?.unschedulable).toBe(true);
  expect((await client.get(machineType, { name: healthy })).spec?.revision).toBe(old);
  expect(pool.status?.currentRevision).toBe(old);
  // Each Machine says what holds it: the failure naming the gate, and the failure budget it spent.
  await eventually('both machines to say what holds them', async () => {
    const [failed, waiting] = await Promise.all(
      [deadlocked, healthy].map(async (name) => (await client.get(machineType, { name })).status?.waitingFor),
    );
    return failed?.reason === 'Failed' && waiting?.reason === 'FailureBudgetExceeded';
  });
  expect((await client.get(machineType, { name: deadlocked })).status?.waitingFor?.message).toContain(
    'health gate KernelDeadlock=False not met',
  );
  expect((await client.get(machineType, { name: healthy })).status?.waitingFor?.message).toContain(
    `1 machine failed at revision ${target} (${deadlocked}), more than maxFailed 0`,
  );

  await setKernelDeadlock(deadlocked, 'False');
  await settledAt(target);
  const machines = (await client.list(machineType, { labelSelector: fleet.selector })).items;
  expect(machines.every((m) => m.spec?.revision === target)).toBe(true);
  await eventually('nothing to wait any more', async () =>
    (await client.list(machineType, { labelSelector: fleet.selector })).items.every(
      (m) => m.status?.waitingFor === undefined,
    ),
  );
  await eventually('every Node uncordoned', async () =>
    (await client.list(builtinTypes.node, { labelSelector: fleet.selector })).items.every(
      (n) => n.spec?.unschedulable !== true,
    ),
  );
});
