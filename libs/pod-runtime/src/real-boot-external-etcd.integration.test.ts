// End to end, a Cluster on an external etcd: a second, separate etcd with
// client TLS runs beside the meta-cluster; the kube-on-kube-operator points a
// Cluster at it (spec.etcd.external), runs no etcd of its own, and the biz
// kube-apiserver booted by the local pod runtime stores the biz-cluster in it.
// Deleting the Cluster leaves that etcd running with its data.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '@kok/pki';
import { eventually, freePort } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'outside';
const secretName = 'outside-etcd-client';

let boot: RealBoot;
let etcdDir: string;
let etcd: ChildProcess | undefined;
let etcdURL: string;
/** What this test presents to the external etcd: its CA and a client certificate of its own. */
let tls: { ca: string; cert: string; key: string };
/** What the Cluster gets: the same CA and the apiserver's client certificate. */
let apiServerClient: { cert: string; key: string };

/** The external etcd: one member, TLS with client certificates on its client port, like a production etcd. */
async function startExternalEtcd(binDir: string): Promise<void> {
  const ca = await createCertificateAuthority({ commonName: 'external-etcd-ca' });
  const [server, self, apiServer] = await Promise.all([
    issueCertificate(ca, {
      commonName: 'external-etcd',
      usages: ['server', 'client'],
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    }),
    issueCertificate(ca, { commonName: 'test-reader', usages: ['client'] }),
    issueCertificate(ca, { commonName: 'kube-apiserver-etcd-client', usages: ['client'] }),
  ]);
  tls = { ca: ca.certificatePem, cert: self.certificatePem, key: self.privateKeyPem };
  apiServerClient = { cert: apiServer.certificatePem, key: apiServer.privateKeyPem };
  const files = {
    ca: join(etcdDir, 'ca.crt'),
    cert: join(etcdDir, 'server.crt'),
    key: join(etcdDir, 'server.key'),
  };
  writeFileSync(files.ca, ca.certificatePem);
  writeFileSync(files.cert, server.certificatePem);
  writeFileSync(files.key, server.privateKeyPem, { mode: 0o600 });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  etcdURL = `https://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const log = createWriteStream(join(etcdDir, 'etcd.log'));
  etcd = spawn(
    join(binDir, 'etcd'),
    [
      '--name=outside',
      `--data-dir=${join(etcdDir, 'data')}`,
      `--listen-client-urls=${etcdURL}`,
      `--advertise-client-urls=${etcdURL}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=outside=${peer}`,
      '--client-cert-auth=true',
      `--trusted-ca-file=${files.ca}`,
      `--cert-file=${files.cert}`,
      `--key-file=${files.key}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  etcd.stdout?.pipe(log);
  etcd.stderr?.pipe(log);
  await eventually('the external etcd healthy', isEtcdHealthy, 60_000, 250);
}

/** A request to the external etcd with this test's client certificate. */
function etcdRequest(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, etcdURL),
      { method, ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 5_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function isEtcdHealthy(): Promise<boolean> {
  try {
    const { status, body } = await etcdRequest('GET', '/health');
    return status === 200 && (JSON.parse(body) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** The keys under `prefix` in the external etcd, through its v3 HTTP gateway. */
async function etcdKeys(prefix: string): Promise<string[]> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  // range_end: the prefix with its last byte incremented, etcd's "every key with this prefix".
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const { status, body } = await etcdRequest('POST', '/v3/kv/range', {
    key: b64(prefix),
    range_end: end.toString('base64'),
    keys_only: true,
  });
  if (status !== 200) throw new Error(`range ${prefix}: HTTP ${status}: ${body}`);
  const kvs = (JSON.parse(body) as { kvs?: { key: string }[] }).kvs ?? [];
  return kvs.map((kv) => Buffer.from(kv.key, 'base64').toString());
}

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-external-etcd-' });
  etcdDir = mkdtempSync(join(tmpdir(), 'kok-external-etcd-'));
  await startExternalEtcd(boot.controlPlane.binDir);
});

afterAll(async () => {
  if (etcd?.pid) {
    try {
      process.kill(-etcd.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await boot?.stop();
  if (etcdDir) rmSync(etcdDir, { recursive: true, force: true });
});

describe('a Cluster on an external etcd, booted by the local pod runtime', () => {
  it('runs no etcd; the biz apiserver stores the biz-cluster in the external etcd', async () => {
    const { core, readyPod, podsOf } = boot;
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: secretName, namespace },
        data: {
          'ca.crt': base64(tls.ca),
          'tls.crt': base64(apiServerClient.cert),
          'tls.key': base64(apiServerClient.key),
        },
      },
    });
    await boot.createCluster(clusterName, {
      etcd: { external: { endpoints: [etcdURL], tlsSecretRef: { name: secretName } } },
    });

    const apiServerPod = await readyPod('kube-apiserver');
    const ip = apiServerPod.status?.podIP ?? '';
    await eventually(
      'the Cluster to be Ready',
      async () => (await boot.getCluster(clusterName)).status?.phase === 'Ready',
      120_000,
      250,
    );
    expect(await podsOf('etcd')).toEqual([]);

    const bizKubeconfig = await boot.adminKubeconfig(clusterName, ip, 'outside.kubeconfig');
    const kubectl = (...args: string[]) => boot.kubectlWith(bizKubeconfig, ...args);
    expect(kubectl('get', '--raw', '/readyz')).toBe('ok');
    kubectl('create', 'configmap', 'kept-outside', '-n', 'default', '--from-literal=where=external-etcd');
    expect(await etcdKeys('/registry/configmaps/default/')).toContain(
      '/registry/configmaps/default/kept-outside',
    );
  });

  it('leaves the external etcd running with its data when the Cluster is deleted', async () => {
    const clusters = boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = {
      group: 'clusters.kok.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'clusters',
      name: clusterName,
    };
    await clusters.deleteNamespacedCustomObject(ref);
    await eventually(
      'the Cluster gone',
      () =>
        clusters.getNamespacedCustomObject(ref).then(
          () => false,
          () => true,
        ),
      120_000,
      250,
    );
    await eventually(
      'every pod of the Cluster gone',
      async () => (await boot.podsOf('kube-apiserver')).length === 0,
      60_000,
      250,
    );

    expect(await isEtcdHealthy()).toBe(true);
    expect(await etcdKeys('/registry/configmaps/default/')).toContain(
      '/registry/configmaps/default/kept-outside',
    );
    const secret = await boot.core.readNamespacedSecret({ name: secretName, namespace });
    expect(secret.metadata?.deletionTimestamp).toBeUndefined();
  });
});
