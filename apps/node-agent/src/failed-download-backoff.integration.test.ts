/**
 * An artifact whose download keeps failing, on a real apiserver: the agent
 * reports the failure and retries on its backoff. Its own status writes come
 * back through its Machine watch; they must not start a pass each (one that
 * writes again, and retries the download at once): on ten thousand hosts that
 * is a storm of Machine writes. A spec change during the backoff is acted on
 * at once all the same.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MachineStatus } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { Informer, KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from './agent/node-agent.ts';
import {
  createComponent,
  eventually,
  getMachine,
  installNodeCrds,
  putMachineSpec,
} from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import type { ComponentObject, MachineObject } from './resources.ts';
import { componentType, machineType } from './resources.ts';

/** First retry after a failure; the next one is twice as far. */
const RETRY_BASE_MS = 5000;
const WINDOW_MS = 10_000;

let client: KubeClient;
let agent: NodeAgent;
let machines: Informer<MachineObject>;
let artifactServer: Server;
let root: string;
let identity: AgentIdentity | undefined;
const machine = uniqueName('backoff');
const component = uniqueName('unavailable');
/** When each download of the artifact was attempted (the server answers 503 to all). */
const downloads: number[] = [];
/** The Machine's resourceVersions as its watch delivered them, with when. */
const writes: { at: number; resourceVersion: string }[] = [];

async function statusOf(): Promise<MachineStatus> {
  return (await getMachine(client, machine)).status ?? {};
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  artifactServer = createServer((request, response) => {
    downloads.push(Date.now());
    response.writeHead(503).end('mirror down\n');
  });
  await new Promise<void>((resolve) => artifactServer.listen(0, '127.0.0.1', resolve));
  const { port } = artifactServer.address() as AddressInfo;
  await createComponent(client, {
    metadata: { name: component },
    spec: {
      versions: [
        {
          version: '1.0.0',
          artifact: {
            url: `http://127.0.0.1:${port}/${component}-1.0.0.tar.gz`,
            sha256: 'a'.repeat(64),
            allowInsecureHttp: true,
          },
        },
      ],
      install: { method: 'Archive', path: `/usr/local/lib/${component}` },
    },
  } as ComponentObject);
  await putMachineSpec(client, machine, {
    revision: 'r1',
    components: [{ name: component, version: '1.0.0' }],
  });
  machines = new Informer({ client, type: machineType, fieldSelector: `metadata.name=${machine}` });
  machines.addEventHandler({
    onUpdate: (before, after) => {
      const resourceVersion = after.metadata?.resourceVersion ?? '';
      if (resourceVersion !== before.metadata?.resourceVersion)
        writes.push({ at: Date.now(), resourceVersion });
    },
  });
  machines.start();
  await machines.waitForSync();
  root = mkdtempSync(join(tmpdir(), 'kok-agent-backoff-'));
  identity = await agentIdentity(client, machine);
  agent = new NodeAgent({
    machineName: machine,
    kubeConfig: identity.kubeConfig,
    root,
    serviceManager: 'supervisor',
    retryBaseMs: RETRY_BASE_MS,
    // Resyncs come often: they must not retry the download ahead of the backoff either.
    resyncIntervalMs: 500,
    logger: pino({ level: 'silent' }),
  });
  await agent.start();
});

afterAll(async () => {
  await agent?.stop();
  await identity?.revoke();
  await machines?.stop();
  await client.delete(machineType, { name: machine });
  await client.delete(componentType, { name: component });
  client?.close();
  await new Promise((resolve) => artifactServer?.close(resolve));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a download that keeps failing', () => {
  it('is reported once and retried on the backoff: the Machine is not written on every watch event', async () => {
    const failed = await eventually('the failed download in the Machine status', async () => {
      const status = await statusOf();
      return status.lastOperation?.state === 'Failed' ? status : undefined;
    });
    expect(failed.conditions?.find((c) => c.type === 'AgentReady')).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
    });
    expect(failed.lastOperation?.message).toContain('HTTP 503');
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const inWindow = (at: number) => at > start && at <= start + WINDOW_MS;

    // One retry falls in the window (after RETRY_BASE_MS; the next is 2 × RETRY_BASE_MS later): one download,
    // and its two writes (the retry under way, then failed again). Every resync and every echo of a write
    // retried and wrote at once before.
    expect(writes.filter((w) => inWindow(w.at)).length).toBeLessThanOrEqual(2);
    expect(downloads.filter(inWindow)).toHaveLength(1);
  });

  it('still acts on a spec change during the backoff at once', async () => {
    // Right after a retry failed, the next one is 2 × RETRY_BASE_MS away or more.
    const lastDownload = downloads.length;
    await eventually(
      'the next retry',
      () => (downloads.length > lastDownload ? true : undefined),
      4 * RETRY_BASE_MS,
    );
    await eventually('the retry reported failed', async () =>
      (await statusOf()).lastOperation?.state === 'Failed' ? true : undefined,
    );
    const changedAt = Date.now();
    await putMachineSpec(client, machine, {
      revision: 'r2',
      components: [],
      files: [{ path: '/etc/kok/after-backoff.conf', content: 'spec changed\n' }],
    });
    await eventually('revision r2 current', async () =>
      (await statusOf()).revision?.current === 'r2' ? true : undefined,
    );
    // Well before the retry that was due: the change itself started the pass.
    expect(Date.now() - changedAt).toBeLessThan(RETRY_BASE_MS);
    const file = join(root, 'etc/kok/after-backoff.conf');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('spec changed\n');
  }, 90_000);
});
