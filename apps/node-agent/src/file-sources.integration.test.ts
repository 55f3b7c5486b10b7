/**
 * Machine files given by secretRef / configMapRef, written by the agent
 * (in-process) from a real apiserver's Secrets and ConfigMaps.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Condition, MachineStatus } from '@kok/api';
import { NODE_FILES_NAMESPACE } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { uniqueName } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from './agent/node-agent.ts';
import { sha256Of } from './atomic-file.ts';
import { DIGEST_KEY_FILE, keyedDigest } from './published-digest.ts';
import { machineType } from './resources.ts';
import { eventually, getMachine, installNodeCrds, putMachineSpec } from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';

const TOKEN_PATH = '/etc/kubernetes/bootstrap-token';
const CONF_PATH = '/etc/kubernetes/kubelet-extra.conf';

let client: KubeClient;
let agent: NodeAgent;
let root: string;
let identity: AgentIdentity | undefined;
const machine = uniqueName('files');
// The one namespace agents may read files from (deploy/rbac.yaml); the names are this test's own.
const namespace = NODE_FILES_NAMESPACE;
const secretName = uniqueName('bootstrap');
const configMapName = uniqueName('kubelet');

async function statusOf(): Promise<MachineStatus> {
  return (await getMachine(client, machine)).status ?? {};
}

function condition(status: MachineStatus, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

/** The keyed digest the agent publishes for a file from a Secret, with the key it keeps under the root. */
function secretDigest(content: string): string {
  return keyedDigest(readFileSync(join(root, 'var/lib/kok-agent', DIGEST_KEY_FILE)), content);
}

function onDisk(path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  root = mkdtempSync(join(tmpdir(), 'kok-agent-files-'));
  await putMachineSpec(client, machine, {
    revision: 'r1',
    files: [
      { path: TOKEN_PATH, secretRef: { namespace, name: secretName, key: 'token' } },
      { path: CONF_PATH, configMapRef: { namespace, name: configMapName, key: 'conf' } },
    ],
  });
  // Installs the agents' RBAC, whose namespace the Secret and ConfigMap go to.
  identity = await agentIdentity(client, machine);
  await client.create(builtinTypes.secret, {
    metadata: { namespace, name: secretName },
    stringData: { token: 'abcdef.0123456789abcdef\n' },
  });
  await client.create(builtinTypes.configMap, {
    metadata: { namespace, name: configMapName },
    data: { conf: 'maxPods: 110\n' },
  });
  // A long resync: changes must arrive through the watches of the referenced objects.
  agent = new NodeAgent({
    machineName: machine,
    kubeConfig: identity.kubeConfig,
    root,
    serviceManager: 'supervisor',
    resyncIntervalMs: 600_000,
    retryBaseMs: 200,
    logger: pino({ level: 'warn' }),
  });
  await agent.start();
});

afterAll(async () => {
  await agent?.stop();
  await identity?.revoke();
  await client.delete(machineType, { name: machine });
  await client.delete(builtinTypes.secret, { namespace, name: secretName });
  await client.delete(builtinTypes.configMap, { namespace, name: configMapName });
  client?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('files from Secrets and ConfigMaps', () => {
  it('writes each key to its path (a Secret 0600 by default) and reports the revision, but no sha256 of the Secret', async () => {
    const status = await eventually('revision r1', async () => {
      const s = await statusOf();
      return s.revision?.current === 'r1' ? s : undefined;
    });
    expect(onDisk(TOKEN_PATH)).toBe('abcdef.0123456789abcdef\n');
    expect(statSync(join(root, TOKEN_PATH)).mode & 0o777).toBe(0o600);
    expect(onDisk(CONF_PATH)).toBe('maxPods: 110\n');
    expect(statSync(join(root, CONF_PATH)).mode & 0o777).toBe(0o644);
    expect(status.files).toEqual([
      { path: TOKEN_PATH, hmacSha256: secretDigest('abcdef.0123456789abcdef\n') },
      { path: CONF_PATH, sha256: sha256Of('maxPods: 110\n') },
    ]);
    expect(JSON.stringify(status)).not.toContain(sha256Of('abcdef.0123456789abcdef\n'));
  });

  it('follows a change of the Secret without waiting for a resync', async () => {
    await client.patch(builtinTypes.secret, { namespace, name: secretName }, PatchType.merge, {
      stringData: { token: 'ghijkl.0123456789abcdef\n' },
    });
    await eventually(
      'the new token on disk',
      () => (onDisk(TOKEN_PATH) === 'ghijkl.0123456789abcdef\n' ? true : undefined),
      60_000,
    );
    const status = await eventually('the new token in status', async () => {
      const s = await statusOf();
      return s.files?.[0]?.hmacSha256 === secretDigest('ghijkl.0123456789abcdef\n') ? s : undefined;
    });
    expect(condition(status, 'FilesInSync')?.status).toBe('True');
  });

  it('says which key is missing, and leaves the file on disk as it was', async () => {
    await client.patch(builtinTypes.configMap, { namespace, name: configMapName }, PatchType.json, [
      { op: 'remove', path: '/data/conf' },
    ]);
    const status = await eventually(
      'AgentReady FileSourceKeyNotFound',
      async () => {
        const s = await statusOf();
        return condition(s, 'AgentReady')?.reason === 'FileSourceKeyNotFound' ? s : undefined;
      },
      60_000,
    );
    expect(condition(status, 'AgentReady')).toMatchObject({ status: 'False' });
    expect(condition(status, 'AgentReady')?.message).toContain(
      `ConfigMap ${namespace}/${configMapName} has no key "conf"`,
    );
    expect(onDisk(CONF_PATH)).toBe('maxPods: 110\n');
  });
});
