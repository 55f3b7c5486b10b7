// A real control-plane upgrade, end to end: a Cluster booted at v1.35.4 on real binaries of that version is
// moved to v1.36.3. Every component's process is replaced by the other version's binary, the apiservers
// before the controller-manager and the scheduler, while a client keeps reading and writing through the biz
// apiservers (it follows their Ready pods, as a client behind their Service would, and tries another pod
// once when one goes away under it). Then an upgrade to an apiserver image that has no build (its pods never
// start) misses its progress deadline and is rolled back, the apiservers at v1.36.3 serving all along.
import { readdirSync, readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';
import { mtlsJsonCall } from './test-support/mtls-json-call.ts';

const namespace = 'biz';
const clusterName = 'up';
const from = 'v1.35.4';
const to = 'v1.36.3';

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-upgrade-' });
});

afterAll(async () => {
  await boot?.stop();
});

const clusterStatus = async () => (await boot.getCluster(clusterName)).status;
const condition = (status: ClusterView['status'], type: string) =>
  status?.conditions?.find((c) => c.type === type);

async function setVersion(version: string, annotations: Record<string, string> = {}): Promise<void> {
  await boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: 'clusters.kok.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'clusters',
      name: clusterName,
      body: { metadata: { annotations }, spec: { version } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** The binary each running container of this boot was started from, by component: read from /proc. */
function runningBinaries(component: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const binary = argv.find((a) => a.endsWith(`/${component}`));
    // This boot's containers only: their flags name paths in its work directory.
    if (binary && argv.some((a) => a.includes(boot.workDir))) found.push(binary);
  }
  return found;
}
const versionOf = (binary: string) => binary.split('/').at(-2);

/** The admin credential of the biz-cluster, for a client that dials apiserver pods itself. */
interface Credentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  serverName: string;
  port: number;
}
async function credentials(): Promise<Credentials> {
  const ref = (await clusterStatus())?.kubeconfigSecretRef;
  const secret = await boot.core.readNamespacedSecret({ name: ref?.name ?? '', namespace });
  const config = new KubeConfig();
  config.loadFromString(Buffer.from(secret.data?.[ref?.key ?? ''] ?? '', 'base64').toString());
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  const server = new URL(cluster?.server ?? '');
  return {
    ca: Buffer.from(cluster?.caData ?? '', 'base64'),
    cert: Buffer.from(user?.certData ?? '', 'base64'),
    key: Buffer.from(user?.keyData ?? '', 'base64'),
    serverName: server.hostname,
    port: Number(server.port || 443),
  };
}

function call(
  credentials: Credentials,
  ip: string,
  method: 'GET' | 'POST',
  path: string,
  body?: object,
): Promise<Record<string, unknown>> {
  const { ca, cert, key, serverName, port } = credentials;
  return mtlsJsonCall({
    host: ip,
    port,
    servername: serverName,
    tls: { ca, cert, key },
    method,
    path,
    ...(body ? { body } : {}),
    timeoutMs: 5_000,
  });
}

/**
 * Reads and writes through the biz apiservers until stopped: each round asks a Ready apiserver pod for its
 * version and creates a ConfigMap, and a round that fails is tried once more on another Ready pod.
 */
function keepTalking(credentials: Credentials, name: string) {
  let stopped = false;
  const versions = new Set<string>();
  const failures: string[] = [];
  let created = 0;
  let retried = 0;
  const round = async (n: number, avoid?: string): Promise<void> => {
    const ready = (await boot.podsOf('kube-apiserver'))
      .filter(isReady)
      .map((p) => p.status?.podIP ?? '')
      .filter((ip) => ip !== '');
    // Another pod after a failure, when there is another.
    const others = ready.filter((ip) => ip !== avoid);
    const ips = others.length > 0 ? others : ready;
    const ip = ips[n % Math.max(1, ips.length)];
    if (ip === undefined) throw new Error(`round ${n}: no Ready apiserver pod`);
    try {
      const version = await call(credentials, ip, 'GET', '/version');
      versions.add(String(version['gitVersion']));
      await call(credentials, ip, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: `${name}-${n}` },
        data: { n: String(n) },
      });
      created++;
    } catch (error) {
      if (avoid !== undefined) throw error;
      retried++;
      await round(n, ip);
    }
  };
  const done = (async () => {
    for (let n = 0; !stopped; n++) {
      await round(n).catch((error: unknown) => failures.push(String(error)));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    versions,
    failures,
    stop: async () => {
      stopped = true;
      await done;
      return { created, retried };
    },
  };
}

describe('a real control-plane upgrade', () => {
  it(`replaces every component's binary ${from} → ${to}, in order, while a client keeps talking`, async () => {
    await boot.createCluster(clusterName, {
      version: from,
      controlPlane: {
        apiServer: { replicas: 2 },
        controllerManager: { replicas: 1 },
        scheduler: { replicas: 1 },
      },
    });
    await eventually(
      'Ready at the old version',
      async () => (await clusterStatus())?.phase === 'Ready',
      300_000,
      1_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${boot.containerLogs()}`);
    });
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      expect(runningBinaries(component).map(versionOf), component).toEqual(
        component === 'kube-apiserver' ? [from, from] : [from],
      );

    const client = keepTalking(await credentials(), 'upgrade');
    await eventually('the client served by the old apiservers', () => client.versions.has(from), 30_000, 200);
    await setVersion(to);
    const upgraded = await eventually(
      'Ready at the new version',
      async () => {
        const status = await clusterStatus();
        return status?.phase === 'Ready' && status.version?.current === to ? status : undefined;
      },
      300_000,
      1_000,
    );
    const { created, retried } = await client.stop();

    expect(upgraded.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
    // The old pods' processes end as their pods go, which may trail the Cluster's Ready by a moment.
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      await eventually(
        `${component} running only at ${to}`,
        () => {
          const versions = runningBinaries(component).map(versionOf);
          return (
            versions.length === (component === 'kube-apiserver' ? 2 : 1) && versions.every((v) => v === to)
          );
        },
        30_000,
        250,
      );
    // The apiservers first: every new apiserver pod was created before any new controller-manager or scheduler.
    const createdAt = async (component: string) =>
      (await boot.podsOf(component)).map((p) => new Date(p.metadata?.creationTimestamp ?? 0).getTime());
    const newestApiServer = Math.max(...(await createdAt('kube-apiserver')));
    for (const component of ['kube-controller-manager', 'kube-scheduler'])
      expect(Math.min(...(await createdAt(component))), component).toBeGreaterThanOrEqual(newestApiServer);
    // The client was served throughout, by both versions, every failed round saved by one retry.
    expect(client.failures).toEqual([]);
    expect([...client.versions].sort()).toEqual([from, to]);
    expect(created).toBeGreaterThan(20);
    // What it wrote is all there, in the etcd both versions shared.
    const cm = await call(
      await credentials(),
      (await boot.readyPod('kube-apiserver')).status?.podIP ?? '',
      'GET',
      '/api/v1/namespaces/default/configmaps',
    );
    expect((cm['items'] as unknown[]).length).toBeGreaterThanOrEqual(created);
    console.log(`real upgrade: ${created} writes through the apiservers, ${retried} retried on another pod`);
  }, 900_000);

  it('rolls an apiserver image that never starts back, the old apiservers serving throughout', async () => {
    const client = keepTalking(await credentials(), 'rollback');
    const broken = 'v1.36.4-never-ready';
    await setVersion(broken, { 'clusters.kok.dev/progress-deadline-seconds': '20' });
    const degraded = await eventually(
      'Degraded with ProgressDeadlineExceeded',
      async () => {
        const status = await clusterStatus();
        return condition(status, 'Degraded')?.reason === 'ProgressDeadlineExceeded' ? status : undefined;
      },
      180_000,
      1_000,
    );
    expect(condition(degraded, 'Degraded')?.message).toMatch(
      new RegExp(`apiServer did not become Available at ${broken} within 20 s .*rolled back`),
    );
    expect(degraded.version?.current).toBe(to);
    await eventually(
      'two Ready apiservers at the old version again',
      async () => {
        const pods = (await boot.podsOf('kube-apiserver')).filter(isReady);
        return pods.length === 2 && pods.every((p) => p.spec?.containers[0]?.image?.endsWith(`:${to}`));
      },
      120_000,
      1_000,
    );
    const { created } = await client.stop();
    expect(client.failures).toEqual([]);
    expect([...client.versions]).toEqual([to]);
    expect(created).toBeGreaterThan(10);
    await eventually(
      `two apiserver processes, both at ${to}`,
      () => runningBinaries('kube-apiserver').map(versionOf).join() === `${to},${to}`,
      30_000,
      250,
    );
  }, 600_000);
});
