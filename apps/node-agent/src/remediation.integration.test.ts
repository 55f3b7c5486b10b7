/**
 * Remediation the node-operator asks for through the Machine spec, carried
 * out by the agent (in-process) against the shared real apiserver, with the
 * built-in supervisor running the simulators and `--reboot-command=simulate`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineStatus } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from './agent/node-agent.ts';
import { componentType, machineType } from './resources.ts';
import { eventually, getMachine, installNodeCrds, putMachineSpec } from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import type { HostScenario } from './fixtures/host-scenario.ts';
import { hostScenario } from './fixtures/host-scenario.ts';

let client: KubeClient;
let host: HostScenario;
let agent: NodeAgent;
let identity: AgentIdentity;

function newAgent(): NodeAgent {
  return new NodeAgent({
    machineName: host.machine,
    kubeConfig: identity.kubeConfig,
    root: host.root,
    serviceManager: 'supervisor',
    rebootCommand: 'simulate',
    resyncIntervalMs: 500,
    retryBaseMs: 200,
    logger: pino({ level: 'warn' }),
  });
}

async function statusOf(): Promise<MachineStatus> {
  return (await getMachine(client, host.machine)).status ?? {};
}

async function pids(): Promise<(number | undefined)[]> {
  return Promise.all(
    [host.kubelet, host.containerd].map(async (name) => (await agent.serviceManager.status({ name })).pid),
  );
}

function askFor(field: 'restartGeneration' | 'reinstallGeneration' | 'rebootGeneration', generation: number) {
  return client.patch(machineType, { name: host.machine }, PatchType.merge, {
    spec: { [field]: generation },
  });
}

/** Waits until the observed generation reached `generation`, the operation succeeded and every component runs. */
async function completed(
  field: 'observedRestartGeneration' | 'observedReinstallGeneration' | 'observedRebootGeneration',
  generation: number,
  type: string,
): Promise<MachineStatus> {
  return eventually(
    () => `${field} ${generation} with a Succeeded ${type}`,
    async () => {
      const s = await statusOf();
      const running = s.components?.every((c) => c.state === 'Running');
      return s[field] === generation &&
        s.lastOperation?.type === type &&
        s.lastOperation.state === 'Succeeded' &&
        running
        ? s
        : undefined;
    },
    40_000,
  );
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  host = await hostScenario(client, sharedKubeconfigPath());
  const spec = host.spec('v1.36.1', '1.7.21');
  await putMachineSpec(client, host.machine, spec);
  identity = await agentIdentity(client, host.machine);
  agent = newAgent();
  await agent.start();
  await eventually(
    'the first revision',
    async () => ((await statusOf()).revision?.current === spec.revision ? true : undefined),
    40_000,
  );
});

afterAll(async () => {
  await agent?.stop();
  await identity?.revoke();
  await host?.cleanup();
  if (host) {
    await client.delete(builtinTypes.node, { name: host.machine });
    await client.delete(machineType, { name: host.machine });
    await client.delete(componentType, { name: host.kubelet });
    await client.delete(componentType, { name: host.containerd });
  }
  client?.close();
});

describe('remediation carried out by the agent', () => {
  it('reports generation 0 of each before anything was asked', async () => {
    expect(await statusOf()).toMatchObject({
      observedRestartGeneration: 0,
      observedReinstallGeneration: 0,
      observedRebootGeneration: 0,
      bootID: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('restartGeneration restarts every service once and reports it', async () => {
    const before = await pids();
    await askFor('restartGeneration', 1);
    const status = await completed('observedRestartGeneration', 1, 'Restart');

    const after = await pids();
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(status.lastOperation?.message).toBe('every service restarted');
    // Once: later passes leave them alone.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await pids()).toEqual(after);
  });

  it('restartGeneration with restartComponent restarts that service only', async () => {
    const before = await pids();
    await client.patch(machineType, { name: host.machine }, PatchType.merge, {
      spec: { restartGeneration: 2, restartComponent: host.containerd },
    });
    const status = await completed('observedRestartGeneration', 2, 'Restart');

    const after = await pids();
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(status.lastOperation?.message).toBe(`${host.containerd} restarted`);
    await client.patch(machineType, { name: host.machine }, PatchType.merge, {
      spec: { restartComponent: null },
    });
  });

  it('reinstallGeneration downloads and unpacks the current versions again, then restarts them', async () => {
    const launcher = join(host.paths.versionDir(host.kubelet, 'v1.36.1'), 'kubelet');
    const original = readFileSync(launcher, 'utf8');
    // A damaged install the agent cannot see (no checksum of unpacked files): only a reinstall repairs it.
    writeFileSync(launcher, `${original}\n# damaged\n`);
    const downloadsBefore = host.server.requests.length;
    const before = await pids();

    await askFor('reinstallGeneration', 1);
    const status = await completed('observedReinstallGeneration', 1, 'Reinstall');

    expect(readFileSync(launcher, 'utf8')).toBe(original);
    expect(host.server.requests.slice(downloadsBefore).sort()).toEqual(
      [host.artifacts['kubelet-v1.36.1']?.name, host.artifacts['containerd-1.7.21']?.name].sort(),
    );
    const after = await pids();
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(status.lastOperation?.message).toBe('every component reinstalled and restarted');
    expect(status.observedRestartGeneration).toBe(2);
  });

  it('reinstallGeneration with reinstallComponent reinstalls and restarts that component only', async () => {
    const downloadsBefore = host.server.requests.length;
    const before = await pids();

    await client.patch(machineType, { name: host.machine }, PatchType.merge, {
      spec: { reinstallGeneration: 2, reinstallComponent: host.kubelet },
    });
    const status = await completed('observedReinstallGeneration', 2, 'Reinstall');

    expect(host.server.requests.slice(downloadsBefore)).toEqual([host.artifacts['kubelet-v1.36.1']?.name]);
    const after = await pids();
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).toBe(before[1]);
    expect(status.lastOperation?.message).toBe(`${host.kubelet} reinstalled and restarted`);
    await client.patch(machineType, { name: host.machine }, PatchType.merge, {
      spec: { reinstallComponent: null },
    });
  });

  it('rebootGeneration reboots (simulated): services stop and start again, the boot ID changes', async () => {
    const { bootID } = await statusOf();
    const before = await pids();

    await askFor('rebootGeneration', 1);
    const status = await completed('observedRebootGeneration', 1, 'Reboot');

    expect(status.bootID).toBeDefined();
    expect(status.bootID).not.toBe(bootID);
    const after = await pids();
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(status.lastOperation?.message).toBe('host rebooted and every service started');
    const { items } = await client.list(builtinTypes.event, { namespace: 'default' });
    const reasons = items.filter((e) => e.regarding?.name === host.machine).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Rebooting', 'Rebooted']));
  });

  it('a restarted agent does not repeat a reboot it finished', async () => {
    const { bootID } = await statusOf();
    await agent.stop();
    agent = newAgent();
    await agent.start();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const status = await statusOf();
    expect(status.bootID).toBe(bootID);
    expect(status.observedRebootGeneration).toBe(1);
  });

  it('a reboot the agent died in the middle of is finished by the next agent', async () => {
    // The journal says a reboot was issued on this boot, but the host never went down (the agent was killed first).
    const journalPath = join(host.paths.stateDir, 'journal.json');
    await agent.stop();
    const { bootID } = await statusOf();
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      journalPath,
      JSON.stringify({ ...journal, reboot: { generation: 2, bootIDBefore: bootID } }),
    );
    await askFor('rebootGeneration', 2);
    agent = newAgent();
    await agent.start();

    const status = await completed('observedRebootGeneration', 2, 'Reboot');
    expect(status.bootID).not.toBe(bootID);
  });
});
