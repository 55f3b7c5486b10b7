/**
 * The agent's own credential on a real apiserver and controller-manager: it
 * asks with a bootstrap token for a client certificate of
 * system:node-agent:<machine>, waits for approval (the test approves and
 * denies here as the node-operator would; the operator's policy is tested in
 * its own app), keeps what the controller-manager signs, and renews it with
 * the certificate itself.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, V1CertificateSigningRequest, V1Secret } from '@kubernetes/client-node';
import { createBootstrapToken, renderKubeconfig } from '@kok/pki';
import { builtinTypes, KubeClient, KubeconfigFile, resourcePath, resourceType } from '@kok/reconcile';
import type { KubeConnection } from '@kok/reconcile';
import { startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentCredential, certificateFacts } from './agent-credential.ts';
import { applyDeployFile, eventually } from './fixtures/cluster.ts';

const csrType = resourceType<V1CertificateSigningRequest>(
  'certificates.k8s.io/v1',
  'CertificateSigningRequest',
  'certificatesigningrequests',
  false,
);

let controlPlane: ControlPlane;
let admin: KubeClient;
let dir: string;
let bootstrapPath: string;
const stops: AbortController[] = [];

beforeAll(async () => {
  // Joinable: bootstrap-token authentication, and a controller-manager that signs approved requests.
  controlPlane = await startControlPlane({ joinable: { address: '127.0.0.1' }, controllerManager: true });
  admin = new KubeClient(controlPlane.kubeConfig, { fieldManager: 'kok-test' });
  // What an agent may do, as shipped: renewing its certificate is among it.
  await applyDeployFile(admin, 'rbac.yaml');
  dir = mkdtempSync(join(tmpdir(), 'kok-agent-credential-'));
  const token = createBootstrapToken({ ttlSeconds: 900, description: 'agent credential test' });
  await admin.create(builtinTypes.secret, token.secret as V1Secret);
  const cluster = controlPlane.kubeConfig.getCurrentCluster();
  bootstrapPath = join(dir, 'bootstrap.kubeconfig');
  await writeFile(
    bootstrapPath,
    renderKubeconfig({
      clusterName: 'test',
      server: controlPlane.server,
      certificateAuthorityPem: Buffer.from(cluster?.caData ?? '', 'base64').toString('utf8'),
      userName: 'bootstrap',
      credentials: { token: token.token },
    }),
  );
}, 180_000);

afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
});

afterAll(async () => {
  admin?.close();
  await controlPlane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function credentialFor(machine: string, extra: { now?: () => Date } = {}) {
  return new AgentCredential({
    machine,
    kubeconfigPath: join(dir, machine, 'agent.kubeconfig'),
    bootstrapKubeconfigPath: bootstrapPath,
    certificateSeconds: 3600,
    log: pino({ level: 'silent' }),
    pollIntervalMs: 100,
    retryDelayMs: 100,
    ...extra,
  });
}

function signal(): AbortSignal {
  const stop = new AbortController();
  stops.push(stop);
  return stop.signal;
}

/** The pending CSRs the agent of `machine` posted. */
async function pendingCsrs(machine: string): Promise<V1CertificateSigningRequest[]> {
  const { items } = await admin.list(csrType, { labelSelector: `nodes.kok.dev/machine=${machine}` });
  return items.filter(
    (csr) => !(csr.status?.conditions ?? []).some((c) => c.type === 'Approved' || c.type === 'Denied'),
  );
}

async function decide(csr: V1CertificateSigningRequest, type: 'Approved' | 'Denied'): Promise<void> {
  await admin.request(
    'PUT',
    resourcePath(csrType, { name: csr.metadata?.name ?? '', subresource: 'approval' }),
    {
      body: {
        ...csr,
        status: { conditions: [{ type, status: 'True', reason: 'Test', message: `test says ${type}` }] },
      } as KubernetesObject,
    },
  );
}

/** Who the apiserver says a kubeconfig is (SelfSubjectReview). */
async function whoAmI(kubeConfig: KubeConnection): Promise<{ username?: string; groups?: string[] }> {
  const client = new KubeClient(kubeConfig);
  try {
    const review = await client.request<{ status: { userInfo: { username?: string; groups?: string[] } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    );
    return review.status.userInfo;
  } finally {
    client.close();
  }
}

describe('the node agent credential', () => {
  it('asks with the bootstrap token, and once approved and signed authenticates as system:node-agent:<machine>', async () => {
    const obtained = credentialFor('host-a').obtain(signal());
    const csr = await eventually('the agent to post its CSR', async () => (await pendingCsrs('host-a'))[0]);
    expect(csr.spec).toMatchObject({
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['digital signature', 'client auth'],
      expirationSeconds: 3600,
      groups: expect.arrayContaining(['system:bootstrappers']),
    });
    expect(csr.spec.username).toMatch(/^system:bootstrap:/);
    await decide(csr, 'Approved');

    const kubeConfig = await obtained;
    expect(await whoAmI(kubeConfig)).toMatchObject({
      username: 'system:node-agent:host-a',
      groups: expect.arrayContaining(['kok:node-agents']),
    });
    const path = join(dir, 'host-a', 'agent.kubeconfig');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const facts = certificateFacts(kubeConfig);
    const life = (facts?.notAfter.getTime() ?? 0) - (facts?.notBefore.getTime() ?? 0);
    // The signer backdates notBefore by up to 5 minutes; the end is what was asked for.
    expect(life).toBeGreaterThanOrEqual(3600_000);
    expect(life).toBeLessThanOrEqual(3600_000 + 5 * 60_000 + 1000);

    // A restart finds the certificate on disk and asks for nothing.
    await credentialFor('host-a').obtain(signal());
    expect(await pendingCsrs('host-a')).toEqual([]);
  });

  it('asks again after a denial, and takes the next approval', async () => {
    const obtained = credentialFor('host-b').obtain(signal());
    const first = await eventually('the first CSR', async () => (await pendingCsrs('host-b'))[0]);
    await decide(first, 'Denied');
    const second = await eventually('a second CSR after the denial', async () =>
      (await pendingCsrs('host-b')).find((c) => c.metadata?.name !== first.metadata?.name),
    );
    await decide(second, 'Approved');
    expect((await whoAmI(await obtained)).username).toBe('system:node-agent:host-b');
  });

  it('renews with its own certificate before it expires and reloads the kubeconfig in place', async () => {
    const obtained = credentialFor('host-c').obtain(signal());
    await decide(await eventually('the first CSR', async () => (await pendingCsrs('host-c'))[0]), 'Approved');
    const kubeConfig = await obtained;
    const client = new KubeClient(kubeConfig);
    const before = kubeConfig.clientCertificatePem();

    // 55 minutes on: past every renewal time of a one-hour certificate, before its end.
    const renewing = signal();
    credentialFor('host-c', { now: () => new Date(Date.now() + 55 * 60_000) }).keepRenewed(
      kubeConfig,
      renewing,
    );
    const renewal = await eventually('the renewal CSR', async () => (await pendingCsrs('host-c'))[0]);
    expect(renewal.spec.username).toBe('system:node-agent:host-c');
    await decide(renewal, 'Approved');
    await eventually(
      'the kubeconfig to carry the new certificate',
      () => kubeConfig.clientCertificatePem() !== before || undefined,
    );
    for (const stop of stops.splice(0)) stop.abort();

    // The client made before the renewal goes on working with the new certificate.
    expect(await whoAmI(kubeConfig)).toMatchObject({ username: 'system:node-agent:host-c' });
    await client.list(builtinTypes.namespace, { limit: 1 }).catch((error: unknown) => {
      // The agent may not list namespaces: a 403 still proves the new certificate authenticated.
      expect((error as Error).message).toMatch(/forbidden/i);
    });
    client.close();
    const onDisk = KubeconfigFile.load(join(dir, 'host-c', 'agent.kubeconfig'));
    expect(onDisk.clientCertificatePem()).toBe(kubeConfig.clientCertificatePem());
  });

  it('says why when there is neither a certificate nor a readable bootstrap kubeconfig', async () => {
    const credential = new AgentCredential({
      machine: 'host-d',
      kubeconfigPath: join(dir, 'host-d', 'agent.kubeconfig'),
      bootstrapKubeconfigPath: join(dir, 'missing.kubeconfig'),
      certificateSeconds: 3600,
      log: pino({ level: 'silent' }),
    });
    await expect(credential.obtain(signal())).rejects.toThrow(
      /no usable credential at .*host-d\/agent.kubeconfig \(no client certificate yet\) and the bootstrap kubeconfig .*missing.kubeconfig cannot be read/,
    );
  });

  it('keeps waiting on the CSR it posted when the connection to the apiserver breaks meanwhile', async () => {
    // A TCP relay to the apiserver that can drop every connection and hold new ones unanswered for a while.
    const target = new URL(controlPlane.server);
    const open = new Set<Socket>();
    let holding = false;
    const relay = createServer((inbound) => {
      open.add(inbound);
      inbound.on('close', () => open.delete(inbound));
      inbound.on('error', () => inbound.destroy());
      if (holding) return;
      const outbound = connect(Number(target.port), target.hostname);
      open.add(outbound);
      outbound.on('close', () => open.delete(outbound));
      outbound.on('error', () => inbound.destroy());
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const address = relay.address();
    const relayPath = join(dir, 'relay-bootstrap.kubeconfig');
    await writeFile(
      relayPath,
      (await readFile(bootstrapPath, 'utf8')).replace(
        controlPlane.server,
        `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      ),
    );
    try {
      const obtained = new AgentCredential({
        machine: 'host-e',
        kubeconfigPath: join(dir, 'host-e', 'agent.kubeconfig'),
        bootstrapKubeconfigPath: relayPath,
        certificateSeconds: 3600,
        log: pino({ level: 'silent' }),
        pollIntervalMs: 100,
        retryDelayMs: 100,
      }).obtain(signal());
      const csr = await eventually('the agent to post its CSR', async () => (await pendingCsrs('host-e'))[0]);
      holding = true;
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      holding = false;
      for (const socket of open) socket.destroy();
      await decide(csr, 'Approved');
      expect((await whoAmI(await obtained)).username).toBe('system:node-agent:host-e');
      // The broken polls were asked again; no second CSR was posted for them.
      const { items } = await admin.list(csrType, { labelSelector: 'nodes.kok.dev/machine=host-e' });
      expect(items.map((c) => c.metadata?.name)).toEqual([csr.metadata?.name]);
    } finally {
      for (const socket of open) socket.destroy();
      relay.close();
    }
  });
});
