/**
 * Files the host cannot take (#18): a path that is a directory there, a
 * parent that is a regular file, a parent that leaves the root through a
 * symlink. The agent (in-process, real apiserver) reports each in the Machine
 * status instead of failing every pass silently, and still writes the rest.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MachineStatus } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from './agent/node-agent.ts';
import { eventually, getMachine, installNodeCrds, putMachineSpec } from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import { machineType } from './resources.ts';

let client: KubeClient;
let agent: NodeAgent;
let root: string;
let outside: string;
let identity: AgentIdentity | undefined;
const machine = uniqueName('unwritable');

async function statusOf(): Promise<MachineStatus> {
  return (await getMachine(client, machine)).status ?? {};
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  root = mkdtempSync(join(tmpdir(), 'kok-agent-unwritable-'));
  outside = mkdtempSync(join(tmpdir(), 'kok-agent-outside-'));
  mkdirSync(join(root, 'etc/kubernetes/manifests'), { recursive: true });
  writeFileSync(join(root, 'etc/hostname'), 'h\n');
  mkdirSync(join(root, 'var'));
  symlinkSync(outside, join(root, 'var/run'));
  await putMachineSpec(client, machine, {
    revision: 'r1',
    files: [
      { path: '/etc/kubernetes/manifests', content: 'a directory on the host\n' },
      { path: '/etc/hostname/extra.conf', content: 'under a regular file\n' },
      { path: '/var/run/kok/token', content: 'through a symlink out of the root\n' },
      { path: '/etc/kok/fine.conf', content: 'fine\n' },
    ],
  });
  identity = await agentIdentity(client, machine);
  agent = new NodeAgent({
    machineName: machine,
    kubeConfig: identity.kubeConfig,
    root,
    serviceManager: 'supervisor',
    retryBaseMs: 200,
    logger: pino({ level: 'warn' }),
  });
  await agent.start();
});

afterAll(async () => {
  await agent?.stop();
  await identity?.revoke();
  await client.delete(machineType, { name: machine });
  client?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('files the host cannot take', () => {
  it('are reported as AgentReady False FilePathRefused; the others are written; nothing leaves the root', async () => {
    const status = await eventually('the writable file in status', async () => {
      const s = await statusOf();
      return s.files?.some((f) => f.path === '/etc/kok/fine.conf') ? s : undefined;
    });
    const ready = status.conditions?.find((c) => c.type === 'AgentReady');
    expect(ready).toMatchObject({ status: 'False', reason: 'FilePathRefused' });
    expect(ready?.message).toContain('/etc/kubernetes/manifests is a directory on the host');
    expect(status.revision?.current).toBeUndefined();
    expect(readFileSync(join(root, 'etc/kok/fine.conf'), 'utf8')).toBe('fine\n');
    expect(readdirSync(outside)).toEqual([]);
  });
});
