// Cluster create → Available on kwok (real apiserver, controller-manager, scheduler),
// the operator as a child process: median of 10 runs, with the time each gate took, and the
// operator's peak RSS over all runs (the kernel's VmHWM). Orchestration only: on kwok no etcd or
// kube-apiserver of the Cluster starts.
//   --runs=<n>  runs (default 10)
//   --real      the Cluster as real containers on real hosts instead: cluster-up-real.bench.ts
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
import { processUsage } from './process-usage.ts';
import { median, round } from './statistics.ts';

if (process.argv.includes('--real')) {
  await import('./cluster-up-real.bench.ts');
  process.exit(0);
}

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 10);
const GATES = ['EtcdAvailable', 'APIServerAvailable', 'ControllerManagerAvailable', 'SchedulerAvailable'];

const controlPlane = await startControlPlane({
  controllerManager: true,
  scheduler: true,
  kwok: true,
  nodes: 3,
});
const client = new KubeClient(controlPlane.kubeConfig, { qps: 100, burst: 200 });
const totals: number[] = [];
const gateSeconds: Record<string, number[]> = Object.fromEntries(GATES.map((g) => [g, []]));
let operatorPeakRssMiB: number;
try {
  await installClusterCrds(client);
  const ns = await createNamespace(client, 'bench-up');
  const storageClass = await provisionVolumes(client, runs);
  const operator = await startOperator(controlPlane.kubeconfigPath, [
    `--namespace=${ns}`,
    '--metrics-bind-address=0',
  ]);
  for (let run = 0; run < runs; run++) {
    const name = `up-${run}`;
    const began = performance.now();
    await client.create(clusterType, smallCluster(ns, name, storageClass));
    const ready = await eventually(
      `${name} Available`,
      async () => {
        const c = await client.get(clusterType, { namespace: ns, name });
        return isAvailable(c) ? c : undefined;
      },
      120_000,
    );
    totals.push((performance.now() - began) / 1000);
    for (const gate of GATES)
      gateSeconds[gate]?.push(
        (ready.status?.gates?.find((g) => g.name === gate)?.durationMilliseconds ?? 0) / 1000,
      );
    console.error(`run ${run + 1}/${runs}: ${round(totals.at(-1) as number)}s`);
  }
  operatorPeakRssMiB = processUsage(operator.pid ?? 0).peakRssMiB;
  operator.kill('SIGTERM');
} finally {
  client.close();
  await controlPlane.stop();
}

console.log(
  JSON.stringify({
    benchmark: 'cluster-up',
    runs,
    createToAvailableSecondsMedian: round(median(totals)),
    createToAvailableSeconds: totals.map((s) => round(s)),
    gateSecondsMedian: Object.fromEntries(GATES.map((g) => [g, round(median(gateSeconds[g] ?? [0]))])),
    operatorPeakRssMiB: round(operatorPeakRssMiB, 0),
    targets: { createToAvailableSeconds: 10 },
  }),
);
