/**
 * Who may read a node agent's /metrics: the agent process as shipped (its
 * default --metrics-auth), under its own credential and the RBAC of deploy/,
 * asks the real apiserver about each scraper's token.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinTypes, KubeClient, resourceType } from '@kok/reconcile';
import { freePort } from '@kok/testing';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import type {} from '@kok/testing/global-setup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import { eventually, installNodeCrds, putMachineSpec } from './fixtures/cluster.ts';
import { machineType } from './resources.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const machine = uniqueName('metrics-host');
const namespace = uniqueName('scrapers');
const readerRole = uniqueName('agent-metrics-reader');
const serviceAccountType = resourceType('v1', 'ServiceAccount', 'serviceaccounts', true);

let admin: KubeClient;
let identity: AgentIdentity;
let agent: ChildProcess | undefined;
let root: string;
let metricsUrl: string;

/** A token of a new ServiceAccount of the test namespace (TokenRequest, 10 minutes). */
async function serviceAccountToken(name: string): Promise<string> {
  await admin.create(serviceAccountType, { metadata: { name, namespace } });
  const request = await admin.request<{ status?: { token?: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 600 },
      },
    },
  );
  const token = request.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  return token;
}

async function scrape(token?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(metricsUrl, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  admin = new KubeClient(sharedKubeConfig());
  await installNodeCrds(admin);
  await putMachineSpec(admin, machine, { components: [] });
  identity = await agentIdentity(admin, machine);
  await admin.create(builtinTypes.namespace, { metadata: { name: namespace } });
  await admin.create(builtinTypes.clusterRole, {
    metadata: { name: readerRole },
    rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
  });
  await admin.create(builtinTypes.clusterRoleBinding, {
    metadata: { name: readerRole },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
    subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace }],
  });

  root = mkdtempSync(join(tmpdir(), 'kok-agent-metrics-'));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const log = openSync(join(root, 'agent.log'), 'a');
  agent = spawn(
    process.execPath,
    [
      MAIN,
      ...['--machine', machine, '--root', root, '--kubeconfig', identity.kubeconfigPath],
      ...['--service-manager', 'supervisor', '--http-port', String(port)],
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  await eventually(
    () => `the agent to listen on port ${port}; its log:\n${readFileSync(join(root, 'agent.log'), 'utf8')}`,
    () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => true,
        () => undefined,
      ),
  );
}, 120_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((resolve) => agent?.once('exit', resolve));
    agent.kill('SIGTERM');
    await exited;
  }
  if (!admin) return;
  await admin.delete(builtinTypes.clusterRoleBinding, { name: readerRole }).catch(() => undefined);
  await admin.delete(builtinTypes.clusterRole, { name: readerRole }).catch(() => undefined);
  await admin.delete(builtinTypes.namespace, { name: namespace }).catch(() => undefined);
  await identity?.revoke();
  await admin.delete(machineType, { name: machine }).catch(() => undefined);
  admin.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the node agent /metrics', () => {
  it('refuses a scrape without a token, and one whose token may not get /metrics', async () => {
    const anonymous = await scrape();
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toBe('a bearer token is required');
    expect((await scrape('not-a-token')).status).toBe(401);

    const stranger = await scrape(await serviceAccountToken('stranger'));
    expect(stranger.status).toBe(403);
    expect(stranger.body).toContain(`system:serviceaccount:${namespace}:stranger may not get /metrics`);
    expect(stranger.body).not.toContain('kok_node_agent_');
  });

  it('serves the metrics to a token allowed to get /metrics', async () => {
    const token = await serviceAccountToken('prometheus');
    // RBAC reaches the authorizer through its informers: the new binding takes a moment.
    const allowed = await eventually('the reader to be allowed', async () => {
      const answer = await scrape(token);
      return answer.status === 200 ? answer : undefined;
    });
    expect(allowed.body).toContain('# TYPE kok_node_agent_');
  });
});
