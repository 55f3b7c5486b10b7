/**
 * The operator as it runs for real — a child process holding a Lease — with a
 * fleet: 20 Clusters created at once all become Available; SIGKILLed in the
 * middle of their upgrade, a new process finishes it; deleted, nothing is left.
 */
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_SELECTOR } from './names.ts';
import type { OperatorProcess } from './operator-process.ts';
import { startOperatorProcess } from './operator-process.ts';
import type { ClusterObject } from './resource-types.ts';
import {
  clusterType,
  deploymentType,
  persistentVolumeClaimType,
  secretType,
  serviceType,
  statefulSetType,
} from './resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from './test-support.ts';

const FLEET = 20;
const names = Array.from({ length: FLEET }, (_, i) => `fleet-${i}`);
let client: KubeClient;
let ns: string;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
let operator: OperatorProcess | undefined;

const operatorArgs = () => [
  `--namespace=${ns}`,
  '--metrics-bind-address=0',
  '--leader-elect',
  '--max-concurrent-reconciles=8',
  '--log-level=info',
];

let supervising = true;
/**
 * Starts the operator and, like its Deployment, starts it again when it exits by itself: on a starved
 * machine a Lease renewal can time out, and an operator that loses its Lease exits. A SIGKILL from the
 * test is left alone (the test starts the replacement itself).
 */
async function runOperator(): Promise<OperatorProcess> {
  const started = await startOperatorProcess(sharedKubeconfigPath(), operatorArgs());
  void started.exited.then(async () => {
    if (!supervising || operator !== started || started.child.signalCode === 'SIGKILL') return;
    operator = await runOperator();
  });
  return started;
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 200, burst: 400 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-fleet');
  volumes = await provisionVolumes(client, FLEET);
  operator = await runOperator();
});

afterAll(async () => {
  supervising = false;
  operator?.child.kill('SIGKILL');
  await volumes?.remove();
  client?.close();
});

const listClusters = async () => (await client.list(clusterType, { namespace: ns })).items;
const isAvailable = (c: ClusterObject) =>
  c.status?.conditions?.some((x) => x.type === 'Available' && x.status === 'True') === true;

/** Fails with the clusters that are not there yet and the operator's last log lines. */
async function allClusters(what: string, ok: (c: ClusterObject) => boolean, timeoutMs: number) {
  let last: ClusterObject[] = [];
  try {
    return await eventually(
      what,
      async () => {
        last = await listClusters();
        return last.length === FLEET && last.every(ok) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    const behind = last
      .filter((c) => !ok(c))
      .map((c) => `${c.metadata.name}: ${c.status?.lastOperation?.message}`);
    const log = (operator?.lines ?? []).slice(-20).map((l) => JSON.stringify(l));
    throw new Error(
      `${(error as Error).message}\nnot there: ${behind.join('\n')}\noperator log:\n${log.join('\n')}`,
      {
        cause: error,
      },
    );
  }
}

describe('a fleet of Clusters under one operator process', () => {
  it(`brings ${FLEET} Clusters created at once to Available`, async () => {
    await Promise.all(
      names.map((name) => client.create(clusterType, smallCluster(ns, name, volumes.storageClass))),
    );
    const ready = await allClusters(
      'every Cluster Ready',
      (c) => c.status?.phase === 'Ready' && isAvailable(c),
      150_000,
    );
    for (const c of ready) {
      expect(c.status?.version?.current).toBe('v1.36.3');
      expect(c.status?.lastOperation).toMatchObject({ type: 'Create', state: 'Succeeded' });
    }
  }, 180_000);

  it('finishes an upgrade after the operator is SIGKILLed in the middle of it', async () => {
    await Promise.all(
      names.map((name) =>
        client.patch(clusterType, { namespace: ns, name }, PatchType.merge, { spec: { version: 'v1.36.4' } }),
      ),
    );
    // Kill once some apiserver already rolls to the new version but no Cluster is done.
    const underWay = await eventually(
      'an upgrade under way',
      async () => {
        const clusters = await listClusters();
        const rolling = clusters.find(
          (c) =>
            c.status?.phase === 'Upgrading' &&
            c.status.gates?.some((g) => g.name === 'APIServerAvailable' && !g.completedAt),
        );
        return rolling && !clusters.some((c) => c.status?.version?.current === 'v1.36.4')
          ? clusters
          : undefined;
      },
      30_000,
    );
    expect(underWay.filter((c) => c.status?.version?.current === 'v1.36.4')).toEqual([]);
    const killed = operator;
    killed?.child.kill('SIGKILL');
    expect(await killed?.exited).toBe(null);
    expect(killed?.child.signalCode).toBe('SIGKILL');

    // The replacement takes the Lease over once the dead one's expires, then carries on from the status.
    operator = await runOperator();
    const upgraded = await allClusters(
      'every Cluster at v1.36.4',
      (c) => c.status?.phase === 'Ready' && c.status.version?.current === 'v1.36.4',
      150_000,
    );
    for (const c of upgraded) {
      expect(c.status?.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
      expect(c.status?.version?.history?.map((h) => [h.version, h.state])).toEqual([
        ['v1.36.4', 'Completed'],
        ['v1.36.3', 'Completed'],
      ]);
    }
    const { items: deployments } = await client.list(deploymentType, {
      namespace: ns,
      labelSelector: MANAGED_SELECTOR,
    });
    expect(deployments).toHaveLength(FLEET * 3);
    for (const d of deployments) expect(d.spec?.template.spec?.containers[0]?.image).toMatch(/:v1\.36\.4$/);
  }, 240_000);

  it('deletes every Cluster with everything it owned', async () => {
    await Promise.all(names.map((name) => client.delete(clusterType, { namespace: ns, name })));
    // Each Cluster is torn down tier by tier, every tier's pods gone before the next: 20 at once on a
    // shared 2-core machine can take minutes.
    await eventually('every Cluster gone', async () => (await listClusters()).length === 0, 300_000);
    const types = [
      deploymentType,
      statefulSetType,
      serviceType,
      secretType,
      persistentVolumeClaimType,
      builtinTypes.pod,
    ];
    await eventually(
      'nothing left in the namespace',
      async () => {
        for (const type of types) {
          const { items } = await client.list(type, {
            namespace: ns,
            labelSelector: 'clusters.kok.dev/cluster',
          });
          if (items.length > 0) return false;
        }
        return true;
      },
      60_000,
    );
  }, 420_000);
});
