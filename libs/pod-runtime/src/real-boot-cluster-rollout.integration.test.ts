// End to end, one ClusterRollout moving three Clusters booted as real processes (etcd, kube-apiserver,
// controller-manager, scheduler on the local pod runtime) from v1.35.4 to v1.36.3, control plane first,
// then their NodePools, in waves [roll-a], [roll-b, roll-c]. roll-c's biz-cluster has a Node whose
// kubelet reports v1.32.9, four minors behind v1.36: the operator holds roll-c with a condition naming
// it, the rollout says so and counts nothing failed; once that kubelet reports v1.35.4, roll-c moves on
// and the rollout succeeds. No node-operator runs here (its pod has no image): the test writes each
// NodePool's status as the node-operator does once it rolled the pool out, and only after the
// operator gave the pool its new versions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReadyPod, runningBinaries, versionOf } from './test-support/api-client-probe.ts';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'fleet';
const CLUSTERS = ['roll-a', 'roll-b', 'roll-c'] as const;
type ClusterName = (typeof CLUSTERS)[number];
const FROM = 'v1.35.4';
const TO = 'v1.36.3';
const POOL = 'workers';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface ClusterJson {
  metadata: { annotations?: Record<string, string> };
  spec: { version: string };
  status?: {
    phase?: string;
    version?: { current?: string; history?: { version: string; state: string; completionTime?: string }[] };
    conditions?: Condition[];
  };
}
interface RolloutJson {
  status?: {
    phase?: string;
    message?: string;
    clusters?: number;
    updatedClusters?: number;
    failedClusters?: number;
  };
}
interface PoolJson {
  metadata: { generation: number };
  spec: { template: { components: { name: string; version: string }[] } };
  status?: { observedGeneration?: number; updatedMachines?: number };
}

let boot: RealBoot;
/** Each Cluster's admin kubeconfig, pointed at the apiserver pod it was last written for. */
const kubeconfigs = new Map<ClusterName, { ip: string; file: string }>();

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-cluster-rollout-' });
  await boot.addLocalVolumes(CLUSTERS.length - 1);
});

afterAll(async () => {
  await boot?.stop();
});

const getCluster = (name: ClusterName) =>
  JSON.parse(boot.kubectl('get', 'cluster', name, '-n', namespace, '-o', 'json')) as ClusterJson;
const condition = (cluster: ClusterJson, type: string) =>
  cluster.status?.conditions?.find((c) => c.type === type);
const getRollout = () =>
  JSON.parse(boot.kubectl('get', 'clusterrollout', 'to-v1-36', '-n', namespace, '-o', 'json')) as RolloutJson;
const getPool = async (name: ClusterName) =>
  JSON.parse(await biz(name, 'get', 'nodepool', POOL, '-o', 'json')) as PoolJson;
const poolKubelet = async (name: ClusterName) =>
  (await getPool(name)).spec.template.components.find((c) => c.name === 'kubelet')?.version;

const apiServerPodOf = async (name: ClusterName): Promise<V1Pod | undefined> =>
  (
    await boot.core.listNamespacedPod({
      namespace,
      labelSelector: `clusters.kok.dev/cluster=${name},clusters.kok.dev/component=kube-apiserver`,
    })
  ).items.find(isReadyPod);

/** kubectl against Cluster `name`'s biz apiserver, through a Ready apiserver pod (an upgrade replaces them). */
async function biz(name: ClusterName, ...args: string[]): Promise<string> {
  const pod = await eventually(`${name}'s apiserver Ready`, () => apiServerPodOf(name), 60_000, 250);
  const ip = pod.status?.podIP ?? '';
  let kubeconfig = kubeconfigs.get(name);
  if (kubeconfig?.ip !== ip) {
    kubeconfig = { ip, file: await boot.adminKubeconfig(name, ip, `${name}.kubeconfig`) };
    kubeconfigs.set(name, kubeconfig);
  }
  return boot.kubectlWith(kubeconfig.file, '--request-timeout=10s', ...args);
}

/** What the kubelet behind Cluster `name`'s Node reports running (no kubelet runs; its status says). */
const reportKubelet = (name: ClusterName, version: string) =>
  biz(
    name,
    'patch',
    'node',
    'worker',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { nodeInfo: { kubeletVersion: version } } }),
  );

function writeFile(name: string, object: unknown): string {
  const file = join(boot.workDir, name);
  writeFileSync(file, JSON.stringify(object));
  return file;
}

/** Standing in for each biz-cluster's node-operator: a pool given new versions is reported rolled out. */
async function reportPoolsRolledOut(rolledOut: Set<ClusterName>): Promise<void> {
  for (const name of CLUSTERS) {
    if (rolledOut.has(name) || (await poolKubelet(name)) !== TO) continue;
    const pool = await getPool(name);
    await biz(
      name,
      'patch',
      'nodepool',
      POOL,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          observedGeneration: pool.metadata.generation,
          updateRevision: 'r2',
          currentRevision: 'r2',
          machines: 1,
          updatedMachines: 1,
        },
      }),
    );
    rolledOut.add(name);
  }
}

describe('a ClusterRollout over three Clusters booted as real processes', () => {
  it('upgrades each control plane and then its pools, wave by wave, holding the one whose kubelets are too old', async () => {
    for (const name of CLUSTERS)
      await boot.createCluster(name, { version: FROM, nodeOperator: { enabled: true } });
    for (const name of CLUSTERS) {
      await eventually(
        `${name} Ready with the node API installed`,
        async () => {
          const cluster = getCluster(name);
          return (
            cluster.status?.phase === 'Ready' && condition(cluster, 'NodeAPIInstalled')?.status === 'True'
          );
        },
        240_000,
        500,
      );
      const kubectl = (...args: string[]) => biz(name, ...args);
      await kubectl(
        'create',
        '-f',
        writeFile(`${name}-pool.json`, {
          apiVersion: 'nodes.kok.dev/v1alpha1',
          kind: 'NodePool',
          metadata: { name: POOL },
          spec: { template: { components: [{ name: 'kubelet', version: FROM }] } },
        }),
      );
      // A Node as its kubelet registers it; no kubelet runs behind it, its status says what one would run.
      await kubectl(
        'create',
        '-f',
        writeFile(`${name}-node.json`, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker' } }),
      );
      await reportKubelet(name, name === 'roll-c' ? 'v1.32.9' : FROM);
    }
    for (const name of CLUSTERS)
      boot.kubectl('label', 'cluster', name, '-n', namespace, 'fleet=rollout-test');

    boot.kubectl(
      'create',
      '-f',
      writeFile('rollout.json', {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'ClusterRollout',
        metadata: { name: 'to-v1-36', namespace },
        spec: {
          clusterSelector: { matchLabels: { fleet: 'rollout-test' } },
          version: TO,
          nodePools: { components: [{ name: 'kubelet', version: TO }] },
          waves: [
            { name: 'canary', count: 1 },
            { name: 'rest', percent: 100 },
          ],
          bakeSeconds: 1,
          maxFailed: 0,
        },
      }),
    );

    // The canary: its control plane first, and its pool only once that is Available at the new version.
    const rolledOut = new Set<ClusterName>();
    const outOfOrder: string[] = [];
    await eventually(
      'roll-a given its pool version',
      async () => {
        const current = getCluster('roll-a').status?.version?.current;
        const pool = await poolKubelet('roll-a');
        if (pool === TO && current !== TO)
          outOfOrder.push(`roll-a's pool moved with its control plane at ${current}`);
        for (const other of ['roll-b', 'roll-c'] as const)
          if (getCluster(other).spec.version !== FROM)
            outOfOrder.push(`${other} started before the canary was done`);
        return pool === TO;
      },
      240_000,
      500,
    );
    expect(outOfOrder).toEqual([]);
    // Its pool not rolled out yet: the canary is not done, and nothing else starts.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(getCluster('roll-b').spec.version).toBe(FROM);
    await reportPoolsRolledOut(rolledOut);

    // The second wave: roll-b goes through; roll-c is held for its kubelet, and the rollout says so.
    const held = await eventually(
      'roll-b upgraded and roll-c held',
      async () => {
        await reportPoolsRolledOut(rolledOut);
        const c = getCluster('roll-c');
        const rollout = getRollout();
        return getCluster('roll-b').status?.version?.current === TO &&
          rolledOut.has('roll-b') &&
          condition(c, 'Degraded')?.reason === 'KubeletVersionSkew' &&
          rollout.status?.message?.includes('held by its operator: roll-c')
          ? { c, rollout }
          : undefined;
      },
      300_000,
      500,
    ).catch((error: unknown) => {
      const c = getCluster('roll-c');
      throw new Error(
        `${String(error)}\nroll-b at ${getCluster('roll-b').status?.version?.current}, pools reported: ` +
          `${[...rolledOut].join(', ')}\nroll-c Degraded: ${JSON.stringify(condition(c, 'Degraded'))}\n` +
          `rollout: ${JSON.stringify(getRollout().status)}`,
      );
    });
    expect(condition(held.c, 'Degraded')?.message).toMatch(
      /^the upgrade to v1\.36\.3 waits: 1 of 1 kubelets are outside the skew policy .*: worker \(v1\.32\.9\)/,
    );
    expect(held.c.spec.version).toBe(TO);
    expect(held.c.status?.version?.current).toBe(FROM);
    expect(await poolKubelet('roll-c')).toBe(FROM);
    expect(held.rollout.status).toMatchObject({ phase: 'Progressing', failedClusters: 0 });
    expect(held.rollout.status?.message).toContain('KubeletVersionSkew: the upgrade to v1.36.3 waits');

    // Its kubelet upgraded (as its NodePool would, within skew of the running apiserver), roll-c moves on.
    await reportKubelet('roll-c', FROM);
    const done = await eventually(
      'the rollout Succeeded',
      async () => {
        await reportPoolsRolledOut(rolledOut);
        const rollout = getRollout();
        return rollout.status?.phase === 'Succeeded' ? rollout : undefined;
      },
      300_000,
      500,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nrollout: ${JSON.stringify(getRollout().status)}\n${boot.containerLogs()}`,
      );
    });
    expect(done.status).toMatchObject({ clusters: 3, updatedClusters: 3, failedClusters: 0 });
    for (const name of CLUSTERS) {
      const cluster = getCluster(name);
      expect(cluster.status?.version?.current, name).toBe(TO);
      expect(await poolKubelet(name), name).toBe(TO);
      expect(condition(cluster, 'NodePoolsUpToDate')?.status, name).toBe('True');
    }
    // Every apiserver process of the three Clusters runs the new build.
    expect(new Set(runningBinaries(boot, 'kube-apiserver').map(versionOf))).toEqual(new Set([TO]));
  }, 900_000);
});
