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
import { KubeClient, builtinTypes, isNotFound, resourceType } from '@kok/reconcile';
import { startRealBoot } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { bareEtcdApiServerStartSeconds } from './bare-control-plane.ts';
import { processUsage } from './process-usage.ts';
import { median, round } from './statistics.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 5);
const GATES = ['EtcdAvailable', 'APIServerAvailable', 'ControllerManagerAvailable', 'SchedulerAvailable'];
const namespace = 'bench-real';
const log = (message: string): void => void process.stderr.write(`[cluster-up-down] ${message}\n`);

const statefulSetType = resourceType('apps/v1', 'StatefulSet', 'statefulsets', true);
const claimType = resourceType('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true);
/** The kinds the operator makes for a Cluster in its namespace, each of which must be gone after down. */
const ownedKinds = {
  pods: builtinTypes.pod,
  deployments: builtinTypes.deployment,
  statefulSets: statefulSetType,
  services: builtinTypes.service,
  secrets: builtinTypes.secret,
  configMaps: builtinTypes.configMap,
  persistentVolumeClaims: claimType,
};
/** What the apiserver puts in every namespace by itself. */
const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

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
const clusterRef = { group: 'clusters.kok.dev', version: 'v1alpha1', namespace, plural: 'clusters' };
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
    // The gates' times as the Cluster records them; the controller-manager's and scheduler's may land just after.
    const gates = await eventually(
      `${name}: every gate timed in its status`,
      async () => {
        const cluster = (await clusters.getNamespacedCustomObject({ ...clusterRef, name })) as {
          status?: { gates?: { name: string; durationMilliseconds?: number }[] };
        };
        const timed = GATES.map(
          (gate) => cluster.status?.gates?.find((g) => g.name === gate)?.durationMilliseconds,
        );
        return timed.every((ms) => ms !== undefined) ? timed : undefined;
      },
      60_000,
      250,
    );
    GATES.forEach((gate, i) => gateSeconds[gate]?.push((gates[i] ?? 0) / 1000));
    log(`run ${run + 1}/${runs}: up in ${round(up.at(-1) as number)}s`);

    const deleted = performance.now();
    await clusters.deleteNamespacedCustomObject({ ...clusterRef, name });
    let left: Record<string, number> = {};
    await eventually(
      `${name}: the Cluster, its objects and its processes gone`,
      async () => {
        const clusterGone = await clusters
          .getNamespacedCustomObject({ ...clusterRef, name })
          .then(() => false)
          .catch((error: unknown) => isNotFound(error) || (error as { code?: number }).code === 404);
        left = { processes: runtimeProcesses(stateDir) };
        for (const [kind, type] of Object.entries(ownedKinds)) {
          const { items } = await client.list(type, { namespace });
          left[kind] = items.filter((o) => o.metadata?.name !== ROOT_CA_CONFIGMAP).length;
        }
        return clusterGone && Object.values(left).every((n) => n === 0);
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
