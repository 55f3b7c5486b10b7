// End to end on a real etcd process: a Cluster with spec.etcd.backup, run by the kube-on-kube-operator
// with a snapshot directory. Its first snapshot is taken as soon as etcd answers; each new value of the
// snapshot-request annotation takes another at once. Every file is whole (it ends with the checksum etcd
// appends, and its SHA-256 is the one status records), holds what etcd held when it was taken (a key
// written through etcd's API before the request), and only the newest `keep` files stay on the volume.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdSnapshotView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';
import { requestEtcdSnapshot } from './test-support/etcd-backup.ts';
import { etcdClientTls, etcdGatewayCall } from './test-support/etcd-gateway.ts';

const namespace = 'biz';
const clusterName = 'snap';
const etcdName = `${clusterName}-etcd`;
const keep = 2;

let boot: RealBoot;
let snapshotDir: string;

beforeAll(async () => {
  boot = await startRealBoot({
    namespace,
    workDirPrefix: 'kok-etcd-snapshots-',
    operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
  });
  snapshotDir = join(boot.workDir, 'snapshots', namespace, clusterName);
});

afterAll(async () => {
  await boot?.stop();
});

const clusterStatus = async () => (await boot.getCluster(clusterName)).status;

const ref = { namespace, cluster: clusterName };

/** Writes one key through etcd's JSON gateway at the member's pod address. */
async function putKey(pod: V1Pod, key: string, value: string): Promise<void> {
  await etcdGatewayCall(pod, await etcdClientTls(boot, ref), ref, '/v3/kv/put', {
    key: Buffer.from(key).toString('base64'),
    value: Buffer.from(value).toString('base64'),
  });
}

const requestSnapshot = (value: string): Promise<EtcdSnapshotView> =>
  requestEtcdSnapshot(boot, namespace, clusterName, value);

/** The file status names, checked whole: its SHA-256 and size as recorded, and etcd's own checksum at its end. */
function snapshotFile(last: EtcdSnapshotView): Buffer {
  const bytes = readFileSync(join(boot.workDir, 'snapshots', last.file));
  expect(bytes.length).toBe(last.sizeBytes);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(last.sha256);
  const database = bytes.subarray(0, bytes.length - 32);
  expect(
    createHash('sha256')
      .update(database)
      .digest()
      .equals(bytes.subarray(bytes.length - 32)),
  ).toBe(true);
  return bytes;
}

describe('etcd snapshots of a Cluster booted on real processes', () => {
  it('takes the first snapshot once etcd answers, a new one per request, and keeps the newest', async () => {
    await boot.createCluster(clusterName, {
      etcd: {
        replicas: 1,
        storage: { size: '1Gi', storageClassName: 'local' },
        backup: { intervalMinutes: 60, keep },
      },
    });
    const first = await eventually(
      'the first snapshot',
      async () => (await clusterStatus())?.etcd?.lastSnapshot,
      300_000,
      1_000,
    ).catch(async (error: unknown) => {
      const status = await clusterStatus().catch(() => undefined);
      throw new Error(
        `${String(error)}\nstatus: ${JSON.stringify({ conditions: status?.conditions, etcd: status?.etcd })}\n` +
          boot.containerLogs(),
      );
    });
    expect(first.member).toBe(`${etcdName}-0`);
    expect(first.file).toMatch(
      new RegExp(`^${namespace}/${clusterName}/${clusterName}-\\d{8}T\\d{9}Z\\.db$`),
    );
    expect(first.request).toBeUndefined();
    snapshotFile(first);
    expect((await clusterStatus())?.conditions?.find((c) => c.type === 'EtcdBackup')).toMatchObject({
      status: 'True',
      reason: 'SnapshotTaken',
    });

    // What etcd holds when a snapshot is asked for is in it; a snapshot taken before does not have it.
    const pod = await boot.readyPod('etcd');
    const marker = `marker-${Date.now()}`;
    await putKey(pod, '/kok-snapshot-test', marker);
    const second = await requestSnapshot('before-upgrade');
    expect(second.revision).toBeGreaterThan(first.revision);
    expect(snapshotFile(second).includes(marker)).toBe(true);
    expect(snapshotFile(first).includes(marker)).toBe(false);

    const third = await requestSnapshot('again');
    snapshotFile(third);
    // keep 2: the first is gone, the two newest stay, and nothing else is in the directory.
    expect(readdirSync(snapshotDir).sort()).toEqual(
      [second.file, third.file].map((f) => f.split('/').pop()).sort(),
    );
    expect(existsSync(join(boot.workDir, 'snapshots', first.file))).toBe(false);

    const events: CoreV1Event[] = (
      await boot.core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${clusterName},reason=EtcdSnapshotTaken`,
      })
    ).items;
    // Three snapshots, each taken once: a pass whose status write was lost does not take another.
    expect(events).toHaveLength(3);
    expect(events.some((e) => e.message?.includes(`deleted ${first.file.split('/').pop()}`))).toBe(true);
    // The schedule counts from the last snapshot: nothing more is taken within the hour.
    expect((await clusterStatus())?.etcd?.lastSnapshot?.file).toBe(third.file);
  }, 600_000);
});
