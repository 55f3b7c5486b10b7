// End to end, a minor upgrade held for its kubelets: the kube-on-kube-operator
// boots a Cluster at v1.36.3 on the local pod runtime (a real biz apiserver),
// Nodes whose kubelets report v1.33.0 are registered in that biz-cluster, and
// spec.version is raised to v1.37.0. The operator reads the biz-cluster's Nodes,
// holds the upgrade with a condition naming them (nothing is written at
// v1.37.0), and starts it by itself once the Nodes report a kubelet within
// skew. Only v1.36.3 binaries are built here, so a v1.37.0 apiserver cannot
// run: the test follows the upgrade until the operator writes the apiserver at
// v1.37.0, not until it is Available.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'skew';
const NODES = ['worker-a', 'worker-b'];

interface ClusterJson {
  status?: {
    phase?: string;
    version?: { current?: string; desired?: string };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-kubelet-skew-' });
});

afterAll(async () => {
  await boot?.stop();
});

const getCluster = () =>
  JSON.parse(boot.kubectl('get', 'cluster', clusterName, '-n', namespace, '-o', 'json')) as ClusterJson;
const degraded = (cluster: ClusterJson) => cluster.status?.conditions?.find((c) => c.type === 'Degraded');
const apiServerImage = () =>
  boot.kubectl(
    'get',
    'deployment',
    `${clusterName}-kube-apiserver`,
    '-n',
    namespace,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  );
const eventReasons = () =>
  boot
    .kubectl('get', 'events', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}')
    .split('\n');

describe('a minor upgrade of a Cluster booted by the local pod runtime', () => {
  it('waits while a kubelet would be too far behind the new apiserver, and starts once none is', async () => {
    await boot.createCluster(clusterName);
    await eventually(
      'the Cluster to be Ready',
      async () => getCluster().status?.phase === 'Ready',
      180_000,
      250,
    );
    const apiServer = await boot.readyPod('kube-apiserver');
    // Ready once the operator installed its node tier (the admin kubeconfig's binding): it reaches this biz apiserver.
    const admin = await boot.adminKubeconfig(clusterName, apiServer.status?.podIP ?? '', 'admin.kubeconfig');
    const biz = (...args: string[]) => boot.kubectlWith(admin, '--request-timeout=10s', ...args);
    const reportKubelet = (version: string) => {
      for (const node of NODES)
        biz(
          'patch',
          'node',
          node,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { nodeInfo: { kubeletVersion: version } } }),
        );
    };
    // Nodes as kubelets register them; no kubelet runs behind them, their status says what one would run.
    for (const node of NODES) {
      const file = join(boot.workDir, `${node}.json`);
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }));
      biz('create', '-f', file);
    }
    // Three minors behind v1.36: within skew of the running apiserver, one too many for v1.37.
    reportKubelet('v1.33.0');

    // No etcd is paired with 1.37: the one 1.36 pairs with is pinned, so only the Kubernetes components move.
    boot.kubectl(
      'patch',
      'cluster',
      clusterName,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { version: 'v1.37.0', etcd: { version: '3.6.16' } } }),
    );
    const held = await eventually(
      'Degraded with KubeletVersionSkew',
      async () => {
        const cluster = getCluster();
        return degraded(cluster)?.reason === 'KubeletVersionSkew' ? cluster : undefined;
      },
      60_000,
      250,
    );
    expect(degraded(held)).toMatchObject({
      status: 'True',
      message:
        'the upgrade to v1.37.0 waits: 2 of 2 kubelets are outside the skew policy of an apiserver at v1.37.0 ' +
        '(a kubelet may be at most 3 minor versions older, never newer): worker-a (v1.33.0), worker-b (v1.33.0); ' +
        'the control plane stays at v1.36.3 until those kubelets are upgraded or their Nodes are gone',
    });
    expect(held.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'KubeletVersionSkew',
    });
    expect(held.status?.version).toMatchObject({ current: 'v1.36.3', desired: 'v1.36.3' });
    expect(eventReasons()).toContain('KubeletVersionSkew');
    // Held, not merely slow: a few seconds on, still nothing at v1.37.0.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(apiServerImage()).toBe('registry.k8s.io/kube-apiserver:v1.36.3');
    expect(degraded(getCluster())?.reason).toBe('KubeletVersionSkew');

    // The kubelets move to v1.34: nothing about the Cluster changes, the operator's own recheck finds them.
    reportKubelet('v1.34.0');
    await eventually(
      'the apiserver written at v1.37.0',
      () => apiServerImage() === 'registry.k8s.io/kube-apiserver:v1.37.0',
      120_000,
      250,
    );
    // The pass that wrote it records the upgrade under way, and the hold is gone.
    await eventually(
      'status.version.desired v1.37.0 and no kubelet hold',
      async () => {
        const cluster = getCluster();
        return (
          cluster.status?.version?.desired === 'v1.37.0' && degraded(cluster)?.reason !== 'KubeletVersionSkew'
        );
      },
      30_000,
      250,
    );
  }, 600_000);
});
