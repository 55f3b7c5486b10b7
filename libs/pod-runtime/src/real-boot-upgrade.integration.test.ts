// A real control-plane upgrade, end to end: a Cluster booted at v1.35.4 on real binaries of that version is
// moved to v1.36.3. Every component's process is replaced by the other version's binary, the apiservers
// before the controller-manager and the scheduler, while a client keeps reading and writing through the biz
// apiservers (it follows their Ready pods, as a client behind their Service would, and tries another pod
// once when one goes away under it). Then an upgrade to an apiserver image that has no build (its pods never
// start) misses its progress deadline and is rolled back, the apiservers at v1.36.3 serving all along.
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';
import {
  adminCredentials,
  callApiServer,
  isReadyPod,
  keepTalking,
  runningBinaries,
  versionOf,
} from './test-support/api-client-probe.ts';

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
const credentials = () => adminCredentials(boot, namespace, clusterName);
const condition = (status: ClusterView['status'], type: string) =>
  status?.conditions?.find((c) => c.type === type);

const ADVERTISE_ADDRESS = '10.213.250.1';

/** GET on the biz apiserver (a Ready pod), as its admin. */
async function bizGet(path: string): Promise<Record<string, unknown>> {
  return callApiServer(
    await credentials(),
    (await boot.readyPod('kube-apiserver')).status?.podIP ?? '',
    'GET',
    path,
  );
}

async function kubeProxyImage(): Promise<string | undefined> {
  try {
    const ds = (await bizGet('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')) as {
      spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
    };
    return ds.spec?.template?.spec?.containers?.[0]?.image;
  } catch {
    return undefined;
  }
}

async function setVersion(version: string, annotations: Record<string, string> = {}): Promise<void> {
  await boot.patchCluster(clusterName, { metadata: { annotations }, spec: { version } });
}

describe('a real control-plane upgrade', () => {
  it(`replaces every component's binary ${from} → ${to}, in order, while a client keeps talking`, async () => {
    await boot.createCluster(clusterName, {
      version: from,
      controlPlane: {
        // Where nodes would reach the apiserver (no node does here): what kube-proxy is given to dial.
        apiServer: { replicas: 2, advertiseAddress: ADVERTISE_ADDRESS },
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
      expect(runningBinaries(boot, component).map(versionOf), component).toEqual(
        component === 'kube-apiserver' ? [from, from] : [from],
      );

    // The add-ons at the old version, kube-proxy dialing the advertise address.
    await eventually(
      'kube-proxy at the old version',
      async () => (await kubeProxyImage()) === `registry.k8s.io/kube-proxy:${from}`,
      60_000,
      500,
    );
    const proxyConfig = await bizGet('/api/v1/namespaces/kube-system/configmaps/kube-proxy');
    expect((proxyConfig['data'] as Record<string, string>)['kubeconfig.conf']).toContain(
      `server: https://${ADVERTISE_ADDRESS}:6443`,
    );

    const client = keepTalking(boot, await credentials(), 'upgrade');
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
          const versions = runningBinaries(boot, component).map(versionOf);
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
    // The add-ons last: kube-proxy's new image was applied after every new control-plane pod was created.
    await eventually(
      'kube-proxy at the new version',
      async () => (await kubeProxyImage()) === `registry.k8s.io/kube-proxy:${to}`,
      60_000,
      500,
    );
    const proxy = await bizGet('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy');
    const applied = (
      proxy['metadata'] as { managedFields?: { manager?: string; operation?: string; time?: string }[] }
    ).managedFields?.find((f) => f.manager === 'kube-on-kube-operator' && f.operation === 'Apply')?.time;
    const newestControlPlanePod = Math.max(
      ...(
        await Promise.all(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map(createdAt))
      ).flat(),
    );
    // Both times are whole seconds.
    expect(new Date(applied ?? 0).getTime()).toBeGreaterThanOrEqual(newestControlPlanePod);
    // The client was served throughout, by both versions, every failed round saved by one retry.
    expect(client.failures).toEqual([]);
    expect([...client.versions].sort()).toEqual([from, to]);
    expect(created).toBeGreaterThan(20);
    // What it wrote is all there, in the etcd both versions shared.
    const cm = await callApiServer(
      await credentials(),
      (await boot.readyPod('kube-apiserver')).status?.podIP ?? '',
      'GET',
      '/api/v1/namespaces/default/configmaps',
    );
    expect((cm['items'] as unknown[]).length).toBeGreaterThanOrEqual(created);
    console.log(`real upgrade: ${created} writes through the apiservers, ${retried} retried on another pod`);
  }, 900_000);

  it('rolls an apiserver image that never starts back, the old apiservers serving throughout', async () => {
    const client = keepTalking(boot, await credentials(), 'rollback');
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
        const pods = (await boot.podsOf('kube-apiserver')).filter(isReadyPod);
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
      () => runningBinaries(boot, 'kube-apiserver').map(versionOf).join() === `${to},${to}`,
      30_000,
      250,
    );
  }, 600_000);
});
