// A Cluster upgraded for real, v1.35.4 → v1.36.3, while a client keeps reading and writing through it.
// The kube-on-kube-operator runs as a process with its shipped defaults (progress deadline included, no
// test annotations) and renders the Cluster into a meta-cluster, whose scheduler puts its pods on the
// local pod runtime (libs/pod-runtime): each component runs as a process of that version's binary.
// Per run, one Cluster at a time, each on a volume of its own:
//   1. Cluster created at v1.35.4 (etcd 1, kube-apiserver 2, controller-manager 1, scheduler 1) → Ready;
//   2. baseline: a client does rounds (GET /version, then POST a ConfigMap) through a Ready apiserver pod,
//      a failed round tried once more on another Ready pod, for --baseline-seconds;
//   3. spec.version patched to v1.36.3 → status.version.current v1.36.3 and phase Ready, the client still
//      talking: upgradeSeconds, each gate's time as status.gates records it, the client's rounds, failed
//      (after the retry) and retried rounds, round latency p50/p99 against the baseline window's, and the
//      gitVersions the client saw;
//   4. from /proc, whether every process of the Cluster then runs a v1.36.3 binary; the Cluster deleted.
// Latencies pool the rounds of all runs (a round's time includes its retry; failed rounds count too).
// Targets are this benchmark's own: upgraded within two minutes, as cluster-up-down's bring-up, and no
// round lost.
// What it leaves out: etcd has one member and is not upgraded (its version does not change); there are no
// nodes or kubelets; the client dials the apiserver pods' addresses, not a Service in front of them; every
// process shares one machine and its loopback network, so no latency of a real network shows.
//   --runs=<n>              upgrades, one Cluster each (default 3)
//   --baseline-seconds=<s>  the client's window before the upgrade (default 10)
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  adminCredentials,
  keepTalking,
  runningBinaries,
  versionOf,
  type ClientRound,
} from '@kok/pod-runtime/api-client-probe';
import { startRealBoot, type ClusterView } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { median, percentile, round } from './statistics.ts';

const numberFlag = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const runs = numberFlag('runs', 3);
const baselineSeconds = numberFlag('baseline-seconds', 10);
const from = 'v1.35.4';
const to = 'v1.36.3';
const GATES = ['EtcdAvailable', 'APIServerAvailable', 'ControllerManagerAvailable', 'SchedulerAvailable'];
/** The processes of a Cluster and how many of each it runs. */
const PROCESSES: Record<string, number> = {
  'kube-apiserver': 2,
  'kube-controller-manager': 1,
  'kube-scheduler': 1,
};
const namespace = 'bench-upgrade';
const log = (message: string): void => void process.stderr.write(`[cluster-upgrade] ${message}\n`);

interface RunFigures {
  upgradeSeconds: number;
  gateSeconds: Record<string, number>;
  baseline: ClientRound[];
  upgrade: ClientRound[];
  versionsSeen: string[];
  allProcessesAtNewVersion: boolean;
}

const boot = await startRealBoot({ namespace, workDirPrefix: 'kok-bench-upgrade-' });
const clusters = boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const clusterRef = { group: 'clusters.kok.dev', version: 'v1alpha1', namespace, plural: 'clusters' };
const status = async (name: string): Promise<ClusterView['status']> => (await boot.getCluster(name)).status;

/** Whether every process of the Cluster runs `version`'s binary, as many of each as it should. */
function allProcessesAt(version: string): boolean {
  return Object.entries(PROCESSES).every(([component, count]) => {
    const versions = runningBinaries(boot, component).map(versionOf);
    return versions.length === count && versions.every((v) => v === version);
  });
}

async function upgradeOnce(name: string): Promise<RunFigures> {
  await boot.createCluster(name, {
    version: from,
    controlPlane: {
      apiServer: { replicas: 2 },
      controllerManager: { replicas: 1 },
      scheduler: { replicas: 1 },
    },
  });
  await eventually(
    `${name}: Ready at ${from}`,
    async () => (await status(name))?.phase === 'Ready',
    300_000,
    500,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${boot.containerLogs()}`);
  });

  const client = keepTalking(boot, await adminCredentials(boot, namespace, name), name);
  await new Promise((r) => setTimeout(r, baselineSeconds * 1000));
  const patchedAt = performance.now();
  const patchedWallClock = Date.now();
  await clusters.patchNamespacedCustomObject(
    { ...clusterRef, name, body: { spec: { version: to } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  let readyAt = patchedAt;
  await eventually(
    `${name}: Ready at ${to}`,
    async () => {
      const now = await status(name);
      readyAt = performance.now();
      return now?.phase === 'Ready' && now.version?.current === to;
    },
    600_000,
    250,
  ).catch(async (error: unknown) => {
    await client.stop();
    throw new Error(`${String(error)}\n${boot.containerLogs()}`);
  });
  await client.stop();

  // The upgrade's gates, not the bring-up's: a new operation starts its records afresh.
  const gates = await eventually(
    `${name}: every gate of the upgrade timed in its status`,
    async () => {
      const now = await status(name);
      if (now?.lastOperation?.type !== 'Upgrade') return undefined;
      const timed = GATES.map((gate) => now.gates?.find((g) => g.name === gate));
      const ofThisUpgrade = timed.every(
        (g) => g?.durationMilliseconds !== undefined && Date.parse(g.startedAt) >= patchedWallClock - 1_000,
      );
      return ofThisUpgrade ? timed.map((g) => (g?.durationMilliseconds ?? 0) / 1000) : undefined;
    },
    60_000,
    250,
  );
  // The old pods' processes end as their pods go, which may trail the Cluster's Ready by a moment.
  const allProcessesAtNewVersion = await eventually(
    `${name}: every process at ${to}`,
    () => allProcessesAt(to),
    30_000,
    250,
  ).then(
    () => true,
    () => false,
  );

  return {
    upgradeSeconds: (readyAt - patchedAt) / 1000,
    gateSeconds: Object.fromEntries(GATES.map((gate, i) => [gate, gates[i] ?? 0])),
    baseline: client.rounds.filter((r) => r.startedAt < patchedAt),
    upgrade: client.rounds.filter((r) => r.startedAt >= patchedAt && r.startedAt < readyAt),
    versionsSeen: [...client.versions].sort(),
    allProcessesAtNewVersion,
  };
}

async function deleteCluster(name: string): Promise<void> {
  await clusters.deleteNamespacedCustomObject({ ...clusterRef, name });
  await eventually(
    `${name}: the Cluster and its processes gone`,
    async () => {
      const gone = await boot.getCluster(name).then(
        () => false,
        (error: unknown) => (error as { code?: number }).code === 404,
      );
      return gone && [...Object.keys(PROCESSES), 'etcd'].every((c) => runningBinaries(boot, c).length === 0);
    },
    180_000,
    250,
  );
}

const figures: RunFigures[] = [];
try {
  // The stage has one volume for etcd's claim; each run's Cluster needs its own, as a released one stays bound.
  await boot.addLocalVolumes(runs - 1);
  for (let run = 0; run < runs; run++) {
    const name = `upgrade-${run}`;
    const figure = await upgradeOnce(name);
    figures.push(figure);
    log(
      `run ${run + 1}/${runs}: upgraded in ${round(figure.upgradeSeconds)}s, ${figure.upgrade.length} rounds ` +
        `(${figure.upgrade.filter((r) => r.failed).length} failed, ${figure.upgrade.filter((r) => r.retried).length} retried), ` +
        `saw ${figure.versionsSeen.join(', ')}; every process at ${to}: ${figure.allProcessesAtNewVersion}`,
    );
    await deleteCluster(name);
  }
} finally {
  await boot.stop();
}

const latencies = (pick: (f: RunFigures) => ClientRound[]) =>
  figures.flatMap(pick).map((r) => r.milliseconds);
const upgradeMs = latencies((f) => f.upgrade);
const baselineMs = latencies((f) => f.baseline);
const count = (pick: (f: RunFigures) => ClientRound[], which: (r: ClientRound) => boolean = () => true) =>
  figures.flatMap(pick).filter(which).length;
const p99UpgradeMs = percentile(upgradeMs, 0.99);
const p99BaselineMs = percentile(baselineMs, 0.99);

console.log(
  JSON.stringify({
    benchmark: 'cluster-upgrade',
    runs,
    from,
    to,
    runtime: 'local pod runtime: etcd, kube-apiserver, kube-controller-manager, kube-scheduler as processes',
    baselineSeconds,
    upgradeSecondsMedian: round(median(figures.map((f) => f.upgradeSeconds))),
    upgradeSeconds: figures.map((f) => round(f.upgradeSeconds)),
    gateSecondsMedian: Object.fromEntries(
      GATES.map((gate) => [gate, round(median(figures.map((f) => f.gateSeconds[gate] ?? 0)))]),
    ),
    roundsDuringUpgrade: count((f) => f.upgrade),
    failedRounds: count(
      (f) => f.upgrade,
      (r) => r.failed,
    ),
    retriedRounds: count(
      (f) => f.upgrade,
      (r) => r.retried,
    ),
    baselineRounds: count((f) => f.baseline),
    baselineFailedRounds: count(
      (f) => f.baseline,
      (r) => r.failed,
    ),
    p50UpgradeMs: round(percentile(upgradeMs, 0.5), 1),
    p99UpgradeMs: round(p99UpgradeMs, 1),
    p50BaselineMs: round(percentile(baselineMs, 0.5), 1),
    p99BaselineMs: round(p99BaselineMs, 1),
    p99Ratio: round(p99UpgradeMs / p99BaselineMs),
    versionsSeen: [...new Set(figures.flatMap((f) => f.versionsSeen))].sort(),
    allProcessesAtNewVersion: figures.every((f) => f.allProcessesAtNewVersion),
    targets: { upgradeSeconds: 120, failedRounds: 0 },
  }),
);
