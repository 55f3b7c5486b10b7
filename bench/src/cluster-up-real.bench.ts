// A Cluster brought up and torn down as real containers (also run as `cluster-up --real`): a
// meta-cluster of two real hosts of the host rig (each its own network namespace, containerd, runc and
// kubelet), kube-proxy and CoreDNS in it, our images imported on both, and the kube-on-kube-operator
// installed by helm from its chart with the chart's defaults (2 replicas, as containers of our image):
// @kok/container-meta.
//   up:   Cluster created → its apiserver's /readyz says ok through its meta-cluster Service's ClusterIP
//         (kube-proxy), from the other host's namespace, with the admin kubeconfig the operator publishes;
//         with the time of each gate as the Cluster's status records it.
//   down: Cluster deleted → the Cluster and every object the operator made in its namespace are gone,
//         and no control-plane container runs on any host.
// Median of --runs (default 5), one Cluster at a time, one replica of each component (as the other
// Cluster benchmarks), no node-operator and no add-ons in the biz-cluster. Baseline, in the same run:
// the start of a bare etcd and kube-apiserver as local processes (the same binaries, no containers).
// Leaves out: the meta-cluster's own bring-up (hosts joining, images imported, the chart installed),
// timed and printed apart. The operator's peak RSS is its containers' (the kernel's VmHWM), the larger.
//   --runs=<n>  Clusters brought up and down (default 5)
import { CustomObjectsApi } from '@kubernetes/client-node';
import { CONTROL_PLANE_BINARIES } from '@kok/images';
import { KubeClient } from '@kok/reconcile';
import { eventually } from '@kok/testing';
import { pinnedImageInputs, RealContainerMeta } from '@kok/container-meta';
import { bareEtcdApiServerStartSeconds } from './bare-control-plane.ts';
import { clusterRef, GATES, gateSecondsOf, leftAfterDelete } from './cluster-lifecycle.ts';
import { processUsage } from './process-usage.ts';
import { median, round } from './statistics.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 5);
const HOSTS = ['cp-0', 'cp-1'] as const;
const namespace = 'bench-containers';
const log = (message: string): void => void process.stderr.write(`[cluster-up-real] ${message}\n`);

const baselineSeconds = await bareEtcdApiServerStartSeconds();
log(`bare etcd+apiserver start: ${round(baselineSeconds)}s`);

const inputs = pinnedImageInputs();
const setupBegan = performance.now();
const meta = await RealContainerMeta.start(
  [...CONTROL_PLANE_BINARIES, 'kube-on-kube-operator' as const].map((name) => ({ name, inputs })),
);
const controlPlaneImages = new Set(CONTROL_PLANE_BINARIES.map((name) => meta.references.get(name) as string));
const client = new KubeClient(meta.cluster.controlPlane.kubeConfig, { qps: 100, burst: 200 });
const clusters = meta.cluster.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const up: number[] = [];
const down: number[] = [];
const gateSeconds: Record<string, number[]> = Object.fromEntries(GATES.map((g) => [g, []]));
let setupSeconds: number;
let operatorPeakRssMiB: number;
try {
  await meta.joinHosts(HOSTS);
  await meta.deployAddons(HOSTS.length);
  await meta.installOperatorChart({
    namespace,
    etcdVolumeHost: HOSTS[1],
    release: 'kok',
    releaseNamespace: 'kok-system',
  });
  // The stage has one volume for etcd's claim; each run's Cluster needs its own, as a released one stays bound.
  await meta.addLocalVolumes(runs - 1, HOSTS[1]);
  setupSeconds = (performance.now() - setupBegan) / 1000;
  log(`meta-cluster of ${HOSTS.length} real hosts ready in ${round(setupSeconds)}s`);

  for (let run = 0; run < runs; run++) {
    const name = `real-${run}`;
    const created = performance.now();
    await clusters.createNamespacedCustomObject({
      ...clusterRef(namespace),
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name, namespace },
        spec: {
          version: inputs.kubernetesVersion,
          etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: 'local' } },
          controlPlane: {
            apiServer: { replicas: 1 },
            controllerManager: { replicas: 1 },
            scheduler: { replicas: 1 },
          },
          nodeOperator: { enabled: false },
          addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } },
        },
      },
    });
    await eventually(
      `${name}: /readyz ok through its Service's ClusterIP`,
      async () => {
        const admin = await meta.serviceAdmin(namespace, name, `${name}.kubeconfig`).catch(() => undefined);
        if (!admin) return false;
        try {
          return (
            meta.kubectlInHost(
              HOSTS[1],
              admin.kubeconfig,
              '--request-timeout=2s',
              'get',
              '--raw',
              '/readyz',
            ) === 'ok'
          );
        } catch {
          return false;
        }
      },
      240_000,
      { intervalMs: 100, context: () => meta.diagnostics(namespace) },
    );
    up.push((performance.now() - created) / 1000);
    const gates = await gateSecondsOf(clusters, namespace, name);
    GATES.forEach((gate, i) => gateSeconds[gate]?.push(gates[i] ?? 0));
    log(`run ${run + 1}/${runs}: up in ${round(up.at(-1) as number)}s`);

    const deleted = performance.now();
    await clusters.deleteNamespacedCustomObject({ ...clusterRef(namespace), name });
    let left: Record<string, number> = {};
    await eventually(
      `${name}: the Cluster, its objects and its containers gone`,
      async () => {
        const after = await leftAfterDelete(clusters, client, namespace, name);
        const containers = HOSTS.flatMap((host) => [...meta.runningContainers(host).values()]);
        left = {
          containers: containers.filter((image) => controlPlaneImages.has(image)).length,
          ...after.left,
        };
        return after.clusterGone && Object.values(left).every((n) => n === 0);
      },
      180_000,
      100,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; still there: ${JSON.stringify(left)}`);
    });
    down.push((performance.now() - deleted) / 1000);
    log(`run ${run + 1}/${runs}: down in ${round(down.at(-1) as number)}s`);
  }
  const operatorPids = meta.containerPids(meta.references.get('kube-on-kube-operator') as string);
  operatorPeakRssMiB = Math.max(...operatorPids.map((pid) => processUsage(pid).peakRssMiB));
} finally {
  client.close();
  await meta.stop();
}

const upMedian = median(up);
console.log(
  JSON.stringify({
    benchmark: 'cluster-up-real',
    runs,
    runtime:
      'real containers: etcd, kube-apiserver, kube-controller-manager, kube-scheduler from our images, run by containerd and runc under the kubelets of 2 real hosts',
    upSecondsMedian: round(upMedian),
    upSeconds: up.map((s) => round(s)),
    gateSecondsMedian: Object.fromEntries(GATES.map((g) => [g, round(median(gateSeconds[g] ?? []))])),
    downSecondsMedian: round(median(down)),
    downSeconds: down.map((s) => round(s)),
    bareEtcdApiServerStartSeconds: round(baselineSeconds),
    upToBareStart: round(upMedian / baselineSeconds),
    metaClusterSetupSeconds: round(setupSeconds),
    operatorPeakRssMiB: round(operatorPeakRssMiB, 0),
    // The targets; the system we follow promises two minutes for each.
    targets: { upSeconds: 20, downSeconds: 15 },
  }),
);
