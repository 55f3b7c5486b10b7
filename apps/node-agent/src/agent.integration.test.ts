/**
 * The agent in-process against the shared real apiserver (with kwok), on a
 * real filesystem under a temp root, with the built-in supervisor running
 * the kubelet and containerd simulators.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Condition } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from './agent/node-agent.ts';
import { serveHttp } from './http-server.ts';
import { sha256Of, TEMP_PREFIX } from './atomic-file.ts';
import { componentType, machineType } from './resources.ts';
import { eventually, getMachine, installNodeCrds, putMachineSpec } from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import type { HostScenario } from './fixtures/host-scenario.ts';
import {
  currentVersionOnDisk,
  hostScenario,
  KUBELET_CONFIG,
  KUBELET_KUBECONFIG,
} from './fixtures/host-scenario.ts';

let client: KubeClient;
let host: HostScenario;
let agent: NodeAgent;
let identity: AgentIdentity | undefined;

function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

async function statusOf() {
  return (await getMachine(client, host.machine)).status ?? {};
}

async function waitForRevision(revision: string | undefined, timeoutMs = 90_000) {
  return eventually(
    () => `revision.current ${revision}`,
    async () => {
      const status = await statusOf();
      return status.revision?.current === revision ? status : undefined;
    },
    timeoutMs,
  );
}

async function kubeletPid(): Promise<number | undefined> {
  return (await agent.serviceManager.status({ name: host.kubelet })).pid;
}

async function eventsFor(reason: string) {
  const { items } = await client.list(builtinTypes.event, { namespace: 'default' });
  return items.filter((e) => e.regarding?.name === host.machine && e.reason === reason);
}

async function nodeKubeletVersion(): Promise<string | undefined> {
  try {
    return (await client.get(builtinTypes.node, { name: host.machine })).status?.nodeInfo?.kubeletVersion;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  host = await hostScenario(client, sharedKubeconfigPath());
  // The Machine comes first, with nothing to run yet: its agent's grant is owned by it.
  await putMachineSpec(client, host.machine, {});
  identity = await agentIdentity(client, host.machine);
  agent = new NodeAgent({
    machineName: host.machine,
    kubeConfig: identity.kubeConfig,
    root: host.root,
    serviceManager: 'supervisor',
    resyncIntervalMs: 500,
    retryBaseMs: 200,
    logger: pino({ level: 'warn' }),
  });
  await agent.start();
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

describe('node agent on a real apiserver', () => {
  it('installs two components and two files, reports them, and the kubelet registers its Node', async () => {
    const spec = host.spec('v1.36.1', '1.7.21');
    await putMachineSpec(client, host.machine, spec);
    const status = await waitForRevision(spec.revision);

    expect(status.components).toEqual([
      { name: host.kubelet, version: 'v1.36.1', state: 'Running', since: expect.stringMatching(/Z$/) },
      { name: host.containerd, version: '1.7.21', state: 'Running', since: expect.stringMatching(/Z$/) },
    ]);
    const files = spec.files ?? [];
    expect(status.files).toEqual(files.map((f) => ({ path: f.path, sha256: sha256Of(f.content ?? '') })));
    expect(readFileSync(host.paths.host(KUBELET_KUBECONFIG), 'utf8')).toBe(files[0]?.content);
    expect(statSync(host.paths.host(KUBELET_KUBECONFIG)).mode & 0o777).toBe(0o600);
    expect(condition(status.conditions, 'UpToDate')).toMatchObject({
      status: 'True',
      reason: 'AtDesiredRevision',
    });
    expect(condition(status.conditions, 'AgentReady')).toMatchObject({ status: 'True' });
    expect(status.lastOperation).toMatchObject({ type: 'Update', state: 'Succeeded', progress: 100 });
    expect(status.agent?.lastHeartbeatTime).toBeDefined();
    expect(currentVersionOnDisk(host.paths, host.kubelet)).toBe('v1.36.1');

    await eventually('Node at v1.36.1', async () =>
      (await nodeKubeletVersion()) === 'v1.36.1' ? true : undefined,
    );
  });

  it('upgrades: switches the symlink, keeps the old version, restarts only the changed service', async () => {
    const before = {
      kubelet: await kubeletPid(),
      containerd: (await agent.serviceManager.status({ name: host.containerd })).pid,
    };
    const sinceBefore = (await statusOf()).components?.map((c) => c.since);
    const spec = host.spec('v1.36.2', '1.7.21');
    const changedAt = Date.now() - 1000; // since has second resolution
    await putMachineSpec(client, host.machine, spec);
    const status = await waitForRevision(spec.revision);

    expect(status.components?.[0]).toEqual({
      name: host.kubelet,
      version: 'v1.36.2',
      state: 'Running',
      since: expect.stringMatching(/Z$/),
    });
    // since moves with the kubelet's new version. (That it stays put while nothing changes is a unit
    // property: here containerd's exec health check may flap on a loaded machine and move it legitimately.)
    expect(Date.parse(status.components?.[0]?.since ?? '')).toBeGreaterThanOrEqual(changedAt);
    expect(status.components?.[0]?.since).not.toBe(sinceBefore?.[0]);
    expect(currentVersionOnDisk(host.paths, host.kubelet)).toBe('v1.36.2');
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.1'))).toBe(true);
    expect(await kubeletPid()).not.toBe(before.kubelet);
    expect((await agent.serviceManager.status({ name: host.containerd })).pid).toBe(before.containerd);
    await eventually('Node at v1.36.2', async () =>
      (await nodeKubeletVersion()) === 'v1.36.2' ? true : undefined,
    );
    expect(await eventsFor('ComponentUpgraded')).not.toHaveLength(0);
  });

  it('stays quiet when nothing changes, and serves /healthz and /metrics', async () => {
    const writes = async () => {
      const metrics = await agent.metrics.registry.getSingleMetricAsString(
        'kok_node_agent_status_writes_total',
      );
      return [...metrics.matchAll(/^kok_node_agent_status_writes_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    const before = await writes();
    // Six resyncs (500 ms apiece) observe the host and find it unchanged.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await writes()).toBe(before);

    const server = await serveHttp(agent, '127.0.0.1', 0);
    try {
      const address = server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('kok_node_agent_converges_total{result="changed"}');
      expect(metrics).toMatch(
        new RegExp(`kok_node_agent_component_healthy\\{component="${host.kubelet}"\\} 1`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never installs an artifact whose sha256 differs, and keeps the old version running', async () => {
    const pid = await kubeletPid();
    const previous = (await statusOf()).revision?.current;
    const actual = host.artifacts['kubelet-v1.36.2']?.sha256 ?? '';
    await putMachineSpec(client, host.machine, host.spec('v1.36.9-bad', '1.7.21'));

    const status = await eventually('AgentReady=False ArtifactChecksumMismatch', async () => {
      const s = await statusOf();
      return condition(s.conditions, 'AgentReady')?.reason === 'ArtifactChecksumMismatch' ? s : undefined;
    });
    const message = condition(status.conditions, 'AgentReady')?.message ?? '';
    expect(message).toContain('f'.repeat(64));
    expect(message).toContain(actual);
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.9-bad'))).toBe(false);
    expect(currentVersionOnDisk(host.paths, host.kubelet)).toBe('v1.36.2');
    expect(await kubeletPid()).toBe(pid);
    expect(status.revision?.current).toBe(previous);
    expect(status.components?.[0]).toMatchObject({
      name: host.kubelet,
      version: 'v1.36.2',
      state: 'Running',
    });
    const [event] = await eventsFor('ArtifactChecksumMismatch');
    expect(event?.note).toContain('f'.repeat(64));
    expect(event?.note).toContain(actual);
  });

  it('never installs an artifact over its maxSizeBytes, and says so on the Machine', async () => {
    const pid = await kubeletPid();
    await putMachineSpec(client, host.machine, host.spec('v1.36.9-big', '1.7.21'));

    const status = await eventually('AgentReady=False ArtifactTooLarge', async () => {
      const s = await statusOf();
      return condition(s.conditions, 'AgentReady')?.reason === 'ArtifactTooLarge' ? s : undefined;
    });
    expect(condition(status.conditions, 'AgentReady')?.message).toContain(
      'is larger than its maxSizeBytes 16',
    );
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.9-big'))).toBe(false);
    expect(currentVersionOnDisk(host.paths, host.kubelet)).toBe('v1.36.2');
    expect(await kubeletPid()).toBe(pid);
    expect(status.components?.[0]).toMatchObject({
      name: host.kubelet,
      version: 'v1.36.2',
      state: 'Running',
      message: 'v1.36.9-big refused: artifact larger than maxSizeBytes 16',
    });
    const [event] = await eventsFor('ArtifactTooLarge');
    expect(event?.note).toContain('raise artifact.maxSizeBytes');
  });

  it('restores a file changed on the host and says so', async () => {
    const spec = host.spec('v1.36.2', '1.7.21');
    await putMachineSpec(client, host.machine, spec);
    await waitForRevision(spec.revision);
    const path = host.paths.host(KUBELET_CONFIG);
    const desired = readFileSync(path, 'utf8');
    writeFileSync(path, 'healthzPort: 1\n# edited by hand\n');

    const status = await eventually('FilesInSync DriftRestored', async () => {
      const s = await statusOf();
      return condition(s.conditions, 'FilesInSync')?.reason === 'DriftRestored' ? s : undefined;
    });
    expect(readFileSync(path, 'utf8')).toBe(desired);
    expect(condition(status.conditions, 'FilesInSync')?.message).toContain(KUBELET_CONFIG);
    expect(await eventsFor('FileDriftRestored')).not.toHaveLength(0);
  });

  it('reports a component failing its health check after an upgrade as Failed, and collects old versions', async () => {
    expect((await statusOf()).revision?.current).toBeDefined();
    await putMachineSpec(client, host.machine, host.spec('v1.36.3', '1.7.21'));
    const status = await eventually('kubelet Failed', async () => {
      const s = await statusOf();
      const kubelet = s.components?.[0];
      return kubelet?.state === 'Failed' && kubelet.version === 'v1.36.3' ? s : undefined;
    });

    expect(status.components?.[0]).toMatchObject({ version: 'v1.36.3', state: 'Failed' });
    expect(condition(status.conditions, 'UpToDate')).toMatchObject({
      status: 'False',
      reason: 'ComponentFailed',
    });
    // The host left the revision it ran and did not reach the new one: it claims neither.
    expect(status.revision).toEqual({ desired: expect.any(String) });
    // keepVersions 2: the current version and the one before it.
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.2'))).toBe(true);
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.1'))).toBe(false);
  });

  it('reports a version that exits at start as Failed: starting it again and again does not hide it', async () => {
    await putMachineSpec(client, host.machine, host.spec('v1.36.4', '1.7.21'));
    const status = await eventually(
      'kubelet v1.36.4 Failed',
      async () => {
        const s = await statusOf();
        const kubelet = s.components?.[0];
        return kubelet?.state === 'Failed' && kubelet.version === 'v1.36.4' ? s : undefined;
      },
      60_000,
    );
    expect(condition(status.conditions, 'UpToDate')).toMatchObject({
      status: 'False',
      reason: 'ComponentFailed',
    });
    // Back to a version that runs: it is healthy again.
    await putMachineSpec(client, host.machine, host.spec('v1.36.2', '1.7.21'));
    await eventually(
      'kubelet v1.36.2 Running again',
      async () => {
        const kubelet = (await statusOf()).components?.[0];
        return kubelet?.state === 'Running' && kubelet.version === 'v1.36.2' ? true : undefined;
      },
      60_000,
    );
  });

  it('removes a temp leftover that appears in the store after start-up, at the end of its next pass', async () => {
    // What an unpacking process of a SIGKILLed agent leaves when it outlives the agent's start-up recovery.
    const leftover = join(host.paths.componentDir(host.kubelet), `${TEMP_PREFIX}v1.36.2-orphan`);
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'kubelet'), 'half');
    agent.kick();
    await eventually('the leftover removed', () => (existsSync(leftover) ? undefined : true));
    expect(existsSync(host.paths.versionDir(host.kubelet, 'v1.36.2'))).toBe(true);
  });
});
