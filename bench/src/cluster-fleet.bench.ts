// 100 Clusters created at once on kwok (real apiserver, controller-manager, scheduler):
// time until every one is Available, and the operator's peak RSS (the kernel's VmHWM) and CPU seconds.
// The operator runs as a child process (`node src/main.ts`) with its chart's NODE_OPTIONS, as it does for real.
//   --node-options=<s>              instead of the chart's NODE_OPTIONS ("" for V8's own heap sizing)
//   --clusters=<n>                  fleet size (default 100); kwok nodes are added to fit its pods
//   --max-concurrent-reconciles=<n> passed to the operator (default 8)
//   --meta-controller-manager-qps=<n> the meta-cluster's kube-controller-manager --kube-api-qps (burst
//                                   twice that; default 100, as managed offerings run it for large clusters;
//                                   its built-in default, 20, makes the Deployment and ReplicaSet controllers
//                                   of the meta-cluster, not the operator, the pace of a 100-Cluster bring-up)
import { KubeClient } from '@kok/reconcile';
import { eventually, startControlPlane } from '@kok/testing';
import {
  clusterType,
  createNamespace,
  installClusterCrds,
  isAvailable,
  provisionVolumes,
  smallCluster,
  startOperator,
} from './kok-operator-fixtures.ts';
import { chartNodeOptions } from './chart-node-options.ts';
import { processUsage } from './process-usage.ts';
import { round } from './statistics.ts';

const flag = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const clusters = flag('clusters', 100);
const concurrency = flag('max-concurrent-reconciles', 8);
const metaControllerManagerQps = flag('meta-controller-manager-qps', 100);
// Five pods a Cluster and 110 pods a kwok node: enough nodes that the meta-cluster's pod capacity never caps the fleet.
const nodes = Math.max(3, Math.ceil((clusters * 6) / 100));
const controlPlane = await startControlPlane({
  controllerManager: true,
  scheduler: true,
  kwok: true,
  nodes,
  extraArgs: {
    controllerManager: [
      `--kube-api-qps=${metaControllerManagerQps}`,
      `--kube-api-burst=${2 * metaControllerManagerQps}`,
    ],
  },
});
const client = new KubeClient(controlPlane.kubeConfig, { qps: 200, burst: 400 });
let result: Record<string, unknown>;
try {
  await installClusterCrds(client);
  const ns = await createNamespace(client, 'bench-fleet');
  const storageClass = await provisionVolumes(client, clusters);
  const operator = await startOperator(controlPlane.kubeconfigPath, [
    `--namespace=${ns}`,
    '--metrics-bind-address=0',
    `--max-concurrent-reconciles=${concurrency}`,
  ]);
  const pid = operator.pid ?? 0;
  const cpuBefore = processUsage(pid).cpuSeconds;
  const began = performance.now();
  const names = Array.from({ length: clusters }, (_, i) => `fleet-${i}`);
  await Promise.all(names.map((name) => client.create(clusterType, smallCluster(ns, name, storageClass))));
  let lastReport = 0;
  await eventually(
    `all ${clusters} Clusters Available`,
    async () => {
      const { items } = await client.list(clusterType, { namespace: ns });
      const available = items.filter(isAvailable).length;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.error(`${round((performance.now() - began) / 1000, 0)}s: ${available}/${clusters} Available`);
      }
      return available === clusters;
    },
    600_000,
  );
  const seconds = (performance.now() - began) / 1000;
  const usage = processUsage(pid);
  result = {
    benchmark: 'cluster-fleet',
    clusters,
    maxConcurrentReconciles: concurrency,
    metaControllerManagerQps,
    operatorNodeOptions: chartNodeOptions('kube-on-kube-operator'),
    allAvailableSeconds: round(seconds),
    // VmHWM: the kernel's high-water mark since the operator started, its start-up included.
    operatorPeakRssMiB: round(usage.peakRssMiB, 0),
    operatorRssMiBAtEnd: round(usage.rssMiB, 0),
    operatorCpuSeconds: round(usage.cpuSeconds - cpuBefore),
    targets: { allAvailableSeconds: 120, operatorPeakRssMiB: 300 },
  };
  operator.kill('SIGTERM');
} finally {
  client.close();
  await controlPlane.stop();
}
console.log(JSON.stringify(result));
