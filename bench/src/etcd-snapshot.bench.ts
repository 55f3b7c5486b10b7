// An etcd snapshot of a Cluster on real processes, taken by the kube-on-kube-operator on request. The
// operator runs as a process with its shipped defaults and --etcd-snapshot-dir in the work directory; the
// local pod runtime (libs/pod-runtime) runs the Cluster's etcd (1 member), apiserver, controller-manager
// and scheduler as processes. Once the Cluster is Ready:
//   1. --keys keys of ~1 KiB each (random bytes) are written straight through etcd's JSON gateway
//      (/v3/kv/put at the member's pod address, a few at a time);
//   2. headline: the snapshot-request annotation set to a new value → status.etcd.lastSnapshot.request
//      carries it; the time includes the operator noticing the annotation and writing its status, and
//      this process polling for it (every 100 ms). Its sizeBytes, and MiB/s over that time;
//   3. baseline, alternating with the headline's runs: the same member's snapshot streamed straight from
//      its gateway (POST /v3/maintenance/snapshot with the apiserver's etcd client certificate), its bytes
//      counted and nothing else; ratio = operator / bare;
//   4. each file the status names is on the snapshot directory with the size and SHA-256 it records
//      (filesWhole).
// Medians of --runs for both. What it leaves out: restore (bench etcd-restore); the time to replace a member; a multi-member etcd (the operator then takes the
// snapshot from a follower); a real disk and network (every process shares one machine, its loopback
// network and its temporary directory). The bare baseline is not `etcdutl snapshot save` / `etcdctl
// snapshot save` but the same gateway stream the operator reads, without the operator.
//   --keys=<n>  keys written before the snapshots (default 10000)
//   --runs=<n>  snapshots of each kind (default 5)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestEtcdSnapshot } from '@kok/pod-runtime/etcd-backup';
import { etcdClientTls, etcdSnapshotByteCount } from '@kok/pod-runtime/etcd-gateway';
import { loadEtcdKeys } from '@kok/pod-runtime/etcd-writer';
import { startRealBoot, type EtcdSnapshotView } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { median, round } from './statistics.ts';

const numberFlag = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const keys = numberFlag('keys', 10_000);
const runs = numberFlag('runs', 5);
const valueBytes = 1024;
const MiB = 1024 * 1024;
const namespace = 'bench-snapshot';
const name = 'snap';
const ref = { namespace, cluster: name };
const log = (message: string): void => void process.stderr.write(`[etcd-snapshot] ${message}\n`);

interface OperatorSnapshot {
  seconds: number;
  snapshot: EtcdSnapshotView;
}

const boot = await startRealBoot({
  namespace,
  workDirPrefix: 'kok-bench-snapshot-',
  operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
});
const snapshotDir = join(boot.workDir, 'snapshots');

/** Annotates the Cluster with `value` and times it until the status records a snapshot answering it. */
async function operatorSnapshot(value: string): Promise<OperatorSnapshot> {
  const began = performance.now();
  const snapshot = await requestEtcdSnapshot(boot, namespace, name, value, 100);
  return { seconds: (performance.now() - began) / 1000, snapshot };
}

/** The file status names is on the directory with the size and SHA-256 status records. */
function isWhole(snapshot: EtcdSnapshotView): boolean {
  const path = join(snapshotDir, snapshot.file);
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  return (
    bytes.length === snapshot.sizeBytes &&
    createHash('sha256').update(bytes).digest('hex') === snapshot.sha256
  );
}

const operator: OperatorSnapshot[] = [];
const bare: { seconds: number; bytes: number }[] = [];

/** Brings the Cluster up, loads it and takes the snapshots; the seconds the load took, and whether every file is whole. */
async function measure(): Promise<{ loadSeconds: number; filesWhole: boolean }> {
  await boot.createCluster(name);
  await eventually(
    `${name}: Ready`,
    async () => (await boot.getCluster(name)).status?.phase === 'Ready',
    300_000,
    500,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${boot.containerLogs()}`);
  });
  const pod = await boot.readyPod('etcd');
  const tls = await etcdClientTls(boot, ref);

  const loadSeconds = await loadEtcdKeys(pod, tls, ref, { count: keys, valueBytes, prefix: '/bench/' });
  log(`${keys} keys of ${valueBytes} bytes written in ${round(loadSeconds)} s`);

  for (let run = 0; run < runs; run++) {
    const taken = await operatorSnapshot(`bench-${run}-${Date.now()}`);
    operator.push(taken);
    const began = performance.now();
    const bytes = await etcdSnapshotByteCount(pod, tls, ref);
    bare.push({ seconds: (performance.now() - began) / 1000, bytes });
    log(
      `run ${run + 1}/${runs}: operator ${round(taken.seconds)} s for ${taken.snapshot.sizeBytes} bytes ` +
        `(member ${taken.snapshot.member}); bare stream ${round(bare.at(-1)?.seconds ?? 0)} s for ${bytes} bytes`,
    );
  }
  // Before the boot stops: stopping removes the work directory and the snapshots in it.
  return { loadSeconds, filesWhole: operator.every((o) => isWhole(o.snapshot)) };
}

const { loadSeconds, filesWhole } = await measure().finally(() => boot.stop());

const operatorSeconds = median(operator.map((o) => o.seconds));
const sizeBytes = median(operator.map((o) => o.snapshot.sizeBytes));
const bareSeconds = median(bare.map((b) => b.seconds));
const bareBytes = median(bare.map((b) => b.bytes));

console.log(
  JSON.stringify({
    benchmark: 'etcd-snapshot',
    runs,
    keys,
    valueBytes,
    loadSeconds: round(loadSeconds),
    runtime:
      'local pod runtime: etcd (1 member), kube-apiserver, kube-controller-manager, kube-scheduler as processes',
    operatorSecondsMedian: round(operatorSeconds, 3),
    operatorSeconds: operator.map((o) => round(o.seconds, 3)),
    sizeBytes,
    operatorMiBPerSecond: round(sizeBytes / MiB / operatorSeconds, 1),
    bareSecondsMedian: round(bareSeconds, 3),
    bareSeconds: bare.map((b) => round(b.seconds, 3)),
    bareBytes,
    bareMiBPerSecond: round(bareBytes / MiB / bareSeconds, 1),
    operatorToBare: round(operatorSeconds / bareSeconds),
    members: [...new Set(operator.map((o) => o.snapshot.member))],
    filesWhole,
  }),
);
