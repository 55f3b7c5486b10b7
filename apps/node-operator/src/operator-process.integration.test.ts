/**
 * The operator as a process, exactly as deployed (`node src/main.ts
 * --kubeconfig …`), SIGKILLed several times during a rollout: everything it
 * needs is in the API, so each new process carries on and the rollout
 * completes without ever disrupting more than maxUnavailable machines.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { templateRevision } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterEach, expect, it } from 'vitest';
import { machineType, nodePoolType } from './shared/resources.ts';
import { AgentSimulator } from './test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from './test-support/fleet.ts';
import { InvariantPoller } from './test-support/invariant-poller.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startProcess(selector: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--kubeconfig',
      sharedKubeconfigPath(),
      '--label-selector',
      selector,
      '--health-port',
      '0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

it('completes a rollout with the invariant held while the operator process is SIGKILLed again and again', async () => {
  await installCrds(client);
  const fleet = await createFleet(client, 8, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  await createPool(client, fleet, {
    template: kubeletTemplate('v1.36.0'),
    rollout: { strategy: { rollingUpdate: { maxUnavailable: 2 } } },
  });
  let child = startProcess(fleet.selector);
  cleanups.push(() => kill(child));
  await eventually(
    'the pool to settle',
    async () =>
      (await client.get(nodePoolType, { name: fleet.pool })).status?.currentRevision ===
      templateRevision(kubeletTemplate('v1.36.0')),
  );

  const poller = new InvariantPoller(client, fleet.selector).start();
  cleanups.push(async () => poller.stop());
  const target = templateRevision(kubeletTemplate('v1.36.1'));
  await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
    spec: { template: kubeletTemplate('v1.36.1') },
  });

  let kills = 0;
  for (let round = 0; round < 4; round++) {
    await new Promise((r) => setTimeout(r, 700 + round * 300));
    await kill(child);
    kills++;
    const machines = (await client.list(machineType, { labelSelector: fleet.selector })).items;
    if (machines.every((m) => m.status?.revision?.current === target)) break;
    child = startProcess(fleet.selector);
  }
  if (child.exitCode !== null || child.signalCode !== null) child = startProcess(fleet.selector);

  await eventually(
    'the rollout to complete',
    async () => (await client.get(nodePoolType, { name: fleet.pool })).status?.currentRevision === target,
    90_000,
  );
  poller.stop();
  expect(kills).toBeGreaterThanOrEqual(2);
  const machines = (await client.list(machineType, { labelSelector: fleet.selector })).items;
  expect(machines.every((m) => m.spec?.revision === target && m.status?.revision?.current === target)).toBe(
    true,
  );
  const nodes = (await client.list(builtinTypes.node, { labelSelector: fleet.selector })).items;
  await eventually('every Node uncordoned', async () =>
    (await client.list(builtinTypes.node, { labelSelector: fleet.selector })).items.every(
      (n) => n.spec?.unschedulable !== true,
    ),
  );
  expect(nodes).toHaveLength(8);
  expect(poller.samples).toBeGreaterThan(5);
  expect(poller.maxDisrupted, `disrupted at once: ${poller.worst.join(', ')}`).toBeLessThanOrEqual(2);
});
