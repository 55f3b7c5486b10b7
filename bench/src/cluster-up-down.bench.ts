// A Cluster brought up and torn down for real: the kube-on-kube-operator renders it into a
// meta-cluster, whose scheduler puts its pods on a local pod runtime (libs/pod-runtime) that runs
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler as local processes.
//   up:   Cluster created → the biz apiserver's /readyz says ok and `kubectl get ns` lists the
//         namespaces, both through the admin kubeconfig the operator publishes; with the time of
//         each gate as the Cluster's status records it.
//   down: Cluster deleted → the Cluster and every object in its namespace the operator made are gone,
//         and so is every process the runtime ran for it.
// Median of --runs (default 5), one Cluster at a time. Baseline, in the same run: the start of a bare
// etcd and kube-apiserver (the same binaries, no operator, no meta-cluster). Peak RSS from the
// kernel's VmHWM: the operator's, and this process's (the pod runtime runs in it).
//   --runs=<n>  Clusters brought up and down (default 5)
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { KubeClient } from '@kok/reconcile';
import { startRealBoot } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { bareEtcdApiServerStartSeconds } from './bare-control-plane.ts';
import { clusterRef, GATES, gateSecondsOf, leftAfterDelete } from './cluster-lifecycle.ts';
import { processUsage } from './process-usage.ts';
import { median, round } from './statistics.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 5);
const namespace = 'bench-real';
const log = (message: string): void => void process.stderr.write(`[cluster-up-down] ${message}\n`);

/** Processes whose stdout is a container log under `stateDir`: those the pod runtime started. */
function runtimeProcesses(stateDir: string): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/fd/1`).startsWith(stateDir)) count++;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return count;
}

const baselineSeconds = await bareEtcdApiServerStartSeconds();
log(`bare etcd+apiserver start: ${round(baselineSeconds)}s`);

const boot = await startRealBoot({ namespace, workDirPrefix: 'kok-bench-real-' });
const client = new KubeClient(boot.controlPlane.kubeConfig, { qps: 100, burst: 200 });
const clusters = boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const stateDir = join(boot.workDir, 'runtime');
const up: number[] = [];
const down: number[] = [];
const gateSeconds: Record<string, number[]> = Object.fromEntries(GATES.map((g) => [g, []]));
let operatorPeakRssMiB: number;
try {
  // The stage has one volume for etcd's claim; each run's Cluster needs its own, as a released one stays bound.
  await boot.addLocalVolumes(runs - 1);

  for (let run = 0; run < runs; run++) {
    const name = `real-${run}`;
    const created = performance.now();
    await boot.createCluster(name);
    const apiServer = await boot.readyPod('kube-apiserver');
    const kubeconfig = await boot.adminKubeconfig(name, apiServer.status?.podIP ?? '', `${name}.kubeconfig`);
    const kubectl = (...args: string[]) => boot.kubectlWith(kubeconfig, ...args);
    await eventually(
      `${name}: /readyz ok and kubectl get ns through the admin kubeconfig`,
      () => {
        try {
          return (
            kubectl('get', '--raw', '/readyz') === 'ok' &&
            kubectl('get', 'ns', '-o', 'name').includes('namespace/kube-system')
          );
        } catch {
          return false;
        }
      },
      120_000,
      100,
    );
    up.push((performance.now() - created) / 1000);
    const gates = await gateSecondsOf(clusters, namespace, name);
    GATES.forEach((gate, i) => gateSeconds[gate]?.push(gates[i] ?? 0));
    log(`run ${run + 1}/${runs}: up in ${round(up.at(-1) as number)}s`);

    const deleted = performance.now();
    await clusters.deleteNamespacedCustomObject({ ...clusterRef(namespace), name });
    let left: Record<string, number> = {};
    await eventually(
      `${name}: the Cluster, its objects and its processes gone`,
      async () => {
        const after = await leftAfterDelete(clusters, client, namespace, name);
        left = { processes: runtimeProcesses(stateDir), ...after.left };
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
  operatorPeakRssMiB = processUsage(boot.operatorPid).peakRssMiB;
} finally {
  client.close();
  await boot.stop();
}

const upMedian = median(up);
console.log(
  JSON.stringify({
    benchmark: 'cluster-up-down',
    runs,
    // Real processes: not the kwok orchestration of cluster-up and cluster-fleet.
    runtime: 'local pod runtime: etcd, kube-apiserver, kube-controller-manager, kube-scheduler as processes',
    upSecondsMedian: round(upMedian),
    upSeconds: up.map((s) => round(s)),
    gateSecondsMedian: Object.fromEntries(GATES.map((g) => [g, round(median(gateSeconds[g] ?? []))])),
    downSecondsMedian: round(median(down)),
    downSeconds: down.map((s) => round(s)),
    bareEtcdApiServerStartSeconds: round(baselineSeconds),
    upToBareStart: round(upMedian / baselineSeconds),
    operatorPeakRssMiB: round(operatorPeakRssMiB, 0),
    // This process holds the meta-cluster's client and the pod runtime (the processes it runs are not counted).
    benchProcessPeakRssMiB: round(processUsage('self').peakRssMiB, 0),
    // "Up or down in two minutes".
    targets: { upSeconds: 120, downSeconds: 120 },
  }),
);
