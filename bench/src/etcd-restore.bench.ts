// A Cluster restored from an etcd snapshot on real processes (spec.etcd.restoreFrom). The
// kube-on-kube-operator runs as a process with its shipped defaults and --etcd-snapshot-dir in the work
// directory; the local pod runtime runs the Cluster's etcd (1 member), its restore pod (etcdutl), the
// apiserver, controller-manager and scheduler as processes. Once the first Cluster is Available (timed:
// the fresh bring-up reference) and holds --keys keys of ~1 KiB written through etcd's JSON gateway, the
// operator takes one snapshot on request; then, --runs times:
//   1. the Cluster is deleted and everything it ran is gone; its identity Secrets are put back, as
//      `kubectl kok cluster restore` does (not timed);
//   2. headline: the Cluster created again with restoreFrom naming that snapshot on a claim bound to the
//      operator's snapshot directory → Available; with the time until the member's volume is marked
//      restored (the restore pod's part) and a check that etcd holds every key again;
//   3. baseline, alternating with the headline's runs: bare `etcdutl snapshot restore` of the same file
//      into an empty directory, the same binary the restore pod runs; ratio = restore to Available / bare.
// Medians of --runs. What it leaves out: a multi-member etcd (one restore pod per member, run in parallel);
// the time to move the snapshot to where the Cluster can read it (here the claim is the operator's own
// directory); a real disk and network (every process shares one machine, its loopback network and its
// temporary directory); member replacement.
//   --keys=<n>  keys written before the snapshot (default 10000)
//   --runs=<n>  restores (default 3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import {
  deleteClusterAndWait,
  identitySecrets,
  requestEtcdSnapshot,
  shareSnapshotDirectory,
} from '@kok/pod-runtime/etcd-backup';
import { etcdClientTls, etcdGatewayCall } from '@kok/pod-runtime/etcd-gateway';
import { loadEtcdKeys } from '@kok/pod-runtime/etcd-writer';
import { startRealBoot } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { median, round } from './statistics.ts';

const numberFlag = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const keys = numberFlag('keys', 10_000);
const runs = numberFlag('runs', 3);
const valueBytes = 1024;
const namespace = 'bench-restore';
const name = 'restore';
const snapshotClaim = 'etcd-snapshots';
const ref = { namespace, cluster: name };
const keyPrefix = '/bench/';
const log = (message: string): void => void process.stderr.write(`[etcd-restore] ${message}\n`);

const boot = await startRealBoot({
  namespace,
  workDirPrefix: 'kok-bench-restore-',
  operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Seconds from now until the Cluster is Available, polled every 100 ms. */
async function secondsToAvailable(began: number, what: string): Promise<number> {
  await eventually(
    what,
    async () =>
      (await boot.getCluster(name)).status?.conditions?.some(
        (c) => c.type === 'Available' && c.status === 'True',
      ),
    300_000,
    100,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${boot.logs.slice(-30).join('\n')}\n${boot.containerLogs()}`);
  });
  return (performance.now() - began) / 1000;
}

/** How many keys under the bench prefix etcd holds, read at its Ready member. */
async function keysInEtcd(): Promise<number> {
  const pod = await boot.readyPod('etcd');
  const answer = await etcdGatewayCall(pod, await etcdClientTls(boot, ref), ref, '/v3/kv/range', {
    key: b64(keyPrefix),
    range_end: b64('/bench0'),
    count_only: true,
  });
  return Number(answer['count'] ?? 0);
}

interface RestoreRun {
  toAvailableSeconds: number;
  volumeRestoredSeconds: number;
  keysAfter: number;
  bareSeconds: number;
}

async function measure(): Promise<{
  freshSeconds: number;
  loadSeconds: number;
  sizeBytes: number;
  results: RestoreRun[];
}> {
  // One released volume per deleted Cluster: each restore binds a new one.
  await boot.addLocalVolumes(runs);
  const freshBegan = performance.now();
  await boot.createCluster(name);
  const freshSeconds = await secondsToAvailable(freshBegan, `${name}: Available, fresh`);

  const pod = await boot.readyPod('etcd');
  const tls = await etcdClientTls(boot, ref);
  const loadSeconds = await loadEtcdKeys(pod, tls, ref, { count: keys, valueBytes, prefix: keyPrefix });
  log(`${keys} keys of ${valueBytes} bytes written in ${round(loadSeconds)} s`);
  const snapshot = await requestEtcdSnapshot(boot, namespace, name, `bench-${Date.now()}`);
  const snapshotFile = join(boot.workDir, 'snapshots', snapshot.file);
  const secrets: V1Secret[] = await identitySecrets(boot, namespace, name);
  await shareSnapshotDirectory(boot, namespace, snapshotClaim);

  const results: RestoreRun[] = [];
  for (let run = 0; run < runs; run++) {
    await deleteClusterAndWait(boot, namespace, name);
    for (const secret of secrets) await boot.core.createNamespacedSecret({ namespace, body: secret });

    const began = performance.now();
    await boot.createCluster(name, {
      etcd: {
        replicas: 1,
        storage: { size: '1Gi', storageClassName: 'local' },
        restoreFrom: { claimName: snapshotClaim, path: snapshot.file },
      },
    });
    const volumeRestored = eventually(
      'the member volume marked restored',
      async () => {
        const claim = await boot.core
          .readNamespacedPersistentVolumeClaim({ namespace, name: `data-${name}-etcd-0` })
          .catch(() => undefined);
        return claim?.metadata?.annotations?.['clusters.kok.dev/etcd-restored-from'] !== undefined;
      },
      300_000,
      100,
    ).then(() => (performance.now() - began) / 1000);
    const toAvailableSeconds = await secondsToAvailable(
      began,
      `${name}: Available, restored (run ${run + 1})`,
    );
    const volumeRestoredSeconds = await volumeRestored;
    const keysAfter = await keysInEtcd();

    const dataDir = join(mkdtempSync(join(tmpdir(), 'kok-bench-etcdutl-')), 'data');
    const bareBegan = performance.now();
    execFileSync(
      join(boot.controlPlane.binDir, 'etcdutl'),
      ['snapshot', 'restore', snapshotFile, `--data-dir=${dataDir}`],
      {
        stdio: 'ignore',
      },
    );
    const bareSeconds = (performance.now() - bareBegan) / 1000;
    rmSync(join(dataDir, '..'), { recursive: true, force: true });

    results.push({ toAvailableSeconds, volumeRestoredSeconds, keysAfter, bareSeconds });
    log(
      `run ${run + 1}/${runs}: restore → Available ${round(toAvailableSeconds)} s (volume restored at ` +
        `${round(volumeRestoredSeconds)} s), ${keysAfter} keys back; bare etcdutl restore ${round(bareSeconds, 3)} s`,
    );
  }
  return { freshSeconds, loadSeconds, sizeBytes: snapshot.sizeBytes, results };
}

const { freshSeconds, loadSeconds, sizeBytes, results } = await measure().finally(() => boot.stop());
const restoreSeconds = median(results.map((r) => r.toAvailableSeconds));
const bareSeconds = median(results.map((r) => r.bareSeconds));

console.log(
  JSON.stringify({
    benchmark: 'etcd-restore',
    runs,
    keys,
    valueBytes,
    loadSeconds: round(loadSeconds),
    runtime:
      'local pod runtime: etcd (1 member), etcdutl restore pod, kube-apiserver, kube-controller-manager, kube-scheduler as processes',
    sizeBytes,
    restoreToAvailableSecondsMedian: round(restoreSeconds),
    restoreToAvailableSeconds: results.map((r) => round(r.toAvailableSeconds)),
    volumeRestoredSecondsMedian: round(median(results.map((r) => r.volumeRestoredSeconds))),
    freshToAvailableSeconds: round(freshSeconds),
    bareRestoreSecondsMedian: round(bareSeconds, 3),
    bareRestoreSeconds: results.map((r) => round(r.bareSeconds, 3)),
    restoreToBare: round(restoreSeconds / bareSeconds),
    everyKeyBack: results.every((r) => r.keysAfter === keys),
  }),
);
