// End to end, a Cluster's spec.nodePools on a real biz apiserver: the
// kube-on-kube-operator boots a Cluster on the local pod runtime with its node
// tier (the nodes.kok.dev API installed in the biz-cluster), two NodePools are
// created there, and spec.nodePools is set while a control-plane change is
// under way (a scheduler flag that keeps its new pod from starting). The
// pools are left alone until the control plane is Available again, then each
// gets the versions of the components its template has, and the Cluster
// reports NodePoolsUpToDate from the pools' status. No node-operator image
// runs here: the test writes the pools' status as the node-operator would
// once it rolled them out (that is the node-operator's own contract).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'pools';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface ClusterJson {
  metadata: { generation: number };
  status?: {
    phase?: string;
    nodePools?: { pools: number; upToDate: number };
    conditions?: Condition[];
  };
}
interface PoolJson {
  metadata: { generation: number };
  spec: { template: { components: { name: string; version: string }[] } };
}

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-node-pool-versions-' });
});

afterAll(async () => {
  await boot?.stop();
});

const getCluster = () =>
  JSON.parse(boot.kubectl('get', 'cluster', clusterName, '-n', namespace, '-o', 'json')) as ClusterJson;
const condition = (cluster: ClusterJson, type: string) =>
  cluster.status?.conditions?.find((c) => c.type === type);
const patchCluster = (spec: Record<string, unknown>) =>
  boot.kubectl(
    'patch',
    'cluster',
    clusterName,
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  );

describe('spec.nodePools of a Cluster booted by the local pod runtime', () => {
  it('sets the NodePools’ versions once the control plane is Available, and reports them up to date once rolled out', async () => {
    // The node-operator is enabled so that its API is installed; its pod never runs (no image here).
    await boot.createCluster(clusterName, { nodeOperator: { enabled: true } });
    await eventually(
      'the Cluster Ready with the node API installed',
      async () => {
        const cluster = getCluster();
        return cluster.status?.phase === 'Ready' && condition(cluster, 'NodeAPIInstalled')?.status === 'True';
      },
      180_000,
      250,
    );
    const apiServer = await boot.readyPod('kube-apiserver');
    const admin = await boot.adminKubeconfig(clusterName, apiServer.status?.podIP ?? '', 'admin.kubeconfig');
    const biz = (...args: string[]) => boot.kubectlWith(admin, '--request-timeout=10s', ...args);
    const getPool = (name: string) => JSON.parse(biz('get', 'nodepool', name, '-o', 'json')) as PoolJson;
    const componentsOf = (name: string) => getPool(name).spec.template.components;

    const pools = {
      'pool-a': [
        { name: 'kubelet', version: 'v1.35.2' },
        { name: 'containerd', version: '2.0.5' },
      ],
      'pool-b': [
        { name: 'node-agent', version: '0.3.0' },
        { name: 'kubelet', version: 'v1.35.2' },
      ],
    };
    for (const [name, components] of Object.entries(pools)) {
      const file = join(boot.workDir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'nodes.kok.dev/v1alpha1',
          kind: 'NodePool',
          metadata: { name },
          spec: { template: { components } },
        }),
      );
      biz('create', '-f', file);
    }

    // The control plane moves (its scheduler's new pod cannot start) when the pool versions are set.
    patchCluster({
      controlPlane: { scheduler: { extraArgs: { 'no-such-flag': 'x' } } },
      nodePools: {
        components: [
          { name: 'kubelet', version: 'v1.36.0' },
          { name: 'containerd', version: '2.1.0' },
        ],
      },
    });
    const waiting = await eventually(
      'NodePoolsUpToDate False, waiting for the control plane',
      async () => {
        const cluster = getCluster();
        const c = condition(cluster, 'NodePoolsUpToDate');
        return c?.reason === 'WaitingForControlPlane' && c.observedGeneration === cluster.metadata.generation
          ? c
          : undefined;
      },
      60_000,
      250,
    );
    expect(waiting).toMatchObject({
      status: 'False',
      message: 'the NodePools wait for the control plane to be Available at v1.36.3',
    });
    // Held, not merely slow: a few seconds on, the pools are as they were.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(componentsOf('pool-a')).toEqual(pools['pool-a']);
    expect(componentsOf('pool-b')).toEqual(pools['pool-b']);
    expect(condition(getCluster(), 'NodePoolsUpToDate')?.reason).toBe('WaitingForControlPlane');

    // The scheduler as it was: the control plane is Available again, and the pools move.
    patchCluster({ controlPlane: { scheduler: { extraArgs: null } } });
    await eventually(
      'both pools at the new versions',
      () =>
        componentsOf('pool-a')[0]?.version === 'v1.36.0' && componentsOf('pool-b')[1]?.version === 'v1.36.0',
      120_000,
      250,
    );
    expect(componentsOf('pool-a')).toEqual([
      { name: 'kubelet', version: 'v1.36.0' },
      { name: 'containerd', version: '2.1.0' },
    ]);
    // pool-b has no containerd: none is added.
    expect(componentsOf('pool-b')).toEqual([
      { name: 'node-agent', version: '0.3.0' },
      { name: 'kubelet', version: 'v1.36.0' },
    ]);
    const moving = await eventually(
      'NodePoolsUpToDate False while no pool is rolled out',
      async () => {
        const cluster = getCluster();
        return condition(cluster, 'NodePoolsUpToDate')?.reason === 'RollingOut' ? cluster : undefined;
      },
      60_000,
      250,
    );
    expect(condition(moving, 'NodePoolsUpToDate')).toMatchObject({
      status: 'False',
      message:
        '0 of 2 NodePools run kubelet v1.36.0, containerd 2.1.0, fully rolled out; still moving: ' +
        'pool-a (the node-operator has not taken up its template yet), pool-b (the node-operator has not taken up its template yet)',
    });
    expect(moving.status?.nodePools).toEqual({ pools: 2, upToDate: 0 });

    // Standing in for the node-operator: pool-a half way, pool-b done.
    const writeStatus = (name: string, status: Record<string, unknown>) =>
      biz(
        'patch',
        'nodepool',
        name,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { observedGeneration: getPool(name).metadata.generation, ...status } }),
      );
    const rolledOut = { updateRevision: 'r2', currentRevision: 'r2', machines: 2, updatedMachines: 2 };
    writeStatus('pool-a', { ...rolledOut, currentRevision: 'r1', updatedMachines: 1 });
    writeStatus('pool-b', rolledOut);
    const half = await eventually(
      'one pool up to date',
      async () => {
        const cluster = getCluster();
        return cluster.status?.nodePools?.upToDate === 1 ? cluster : undefined;
      },
      60_000,
      250,
    );
    expect(condition(half, 'NodePoolsUpToDate')).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message: expect.stringMatching(
        /^1 of 2 NodePools .*; still moving: pool-a \(1 of 2 machines updated\)$/,
      ),
    });

    writeStatus('pool-a', rolledOut);
    const done = await eventually(
      'NodePoolsUpToDate True',
      async () => {
        const cluster = getCluster();
        return condition(cluster, 'NodePoolsUpToDate')?.status === 'True' ? cluster : undefined;
      },
      60_000,
      250,
    );
    expect(condition(done, 'NodePoolsUpToDate')).toMatchObject({
      reason: 'UpToDate',
      message:
        '2 of 2 NodePools run kubelet v1.36.0, containerd 2.1.0 where their templates have them, fully rolled out',
    });
    expect(done.status?.nodePools).toEqual({ pools: 2, upToDate: 2 });
  }, 600_000);
});
