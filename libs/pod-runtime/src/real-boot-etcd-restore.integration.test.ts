// End to end on real etcd and kube-apiserver processes: a Cluster's etcd snapshot is taken on request, the
// Cluster is deleted, its Secrets are put back (as `kubectl kok cluster restore` does), and a new Cluster of
// the same name starts from the snapshot (spec.etcd.restoreFrom, read from the operator's own snapshot
// directory through a claim bound to it). What the biz-cluster held before the snapshot is there, what it
// got after is not, the three members restored from a one-member snapshot are healthy voters, and the admin
// kubeconfig issued before the deletion still works.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteClusterAndWait,
  identitySecrets,
  requestEtcdSnapshot,
  shareSnapshotDirectory,
} from './test-support/etcd-backup.ts';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'web';
const snapshotClaim = 'etcd-snapshots';

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({
    namespace,
    workDirPrefix: 'kok-etcd-restore-',
    operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
  });
  // Volumes for the restored Cluster's three etcd claims: the first Cluster's is released, not bound again.
  await boot.addLocalVolumes(3);
});

afterAll(async () => {
  await boot?.stop();
});

const condition = async (type: string) =>
  (await boot.getCluster(clusterName)).status?.conditions?.find((c) => c.type === type);

async function waitAvailable(what: string): Promise<void> {
  await eventually(what, async () => (await condition('Available'))?.status === 'True', 300_000, 1_000).catch(
    (error: unknown) => {
      throw new Error(`${String(error)}\n${boot.logs.slice(-40).join('\n')}\n${boot.containerLogs()}`);
    },
  );
}

/** The admin kubeconfig written to `file` before, pointed at the apiserver pod that serves now. */
async function pointAt(file: string, ip: string): Promise<string> {
  const config = JSON.parse(readFileSync(file, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
  };
  for (const entry of config.clusters) {
    const port = new URL(entry.cluster['server'] ?? '').port;
    entry.cluster['server'] = `https://${ip}:${port}`;
  }
  const moved = `${file}.now.json`;
  writeFileSync(moved, JSON.stringify(config));
  return moved;
}

describe('restoring a Cluster from an etcd snapshot, on real processes', () => {
  it('brings back what etcd held at the snapshot, under the old admin kubeconfig', async () => {
    await boot.createCluster(clusterName);
    await waitAvailable('the first Cluster Available');
    const apiserver = await boot.readyPod('kube-apiserver');
    const adminKubeconfig = await boot.adminKubeconfig(
      clusterName,
      apiserver.status?.podIP ?? '',
      'admin.json',
    );
    boot.kubectlWith(adminKubeconfig, 'create', 'configmap', 'before-snapshot', '--from-literal=kept=yes');
    const snapshot = await requestEtcdSnapshot(boot, namespace, clusterName, 'before-delete');
    boot.kubectlWith(adminKubeconfig, 'create', 'configmap', 'after-snapshot', '--from-literal=kept=no');
    const secrets = await identitySecrets(boot, namespace, clusterName);
    const firstVolume = (
      await boot.core.readNamespacedPersistentVolumeClaim({ namespace, name: `data-${clusterName}-etcd-0` })
    ).spec?.volumeName;
    expect(firstVolume).toBeDefined();
    expect(secrets.map((s) => s.metadata?.name)).toContain(`${clusterName}-ca`);

    await deleteClusterAndWait(boot, namespace, clusterName);

    // As `kubectl kok cluster restore` does: the identities back first, then the Cluster.
    for (const secret of secrets) await boot.core.createNamespacedSecret({ namespace, body: secret });
    await boot.createCluster(clusterName, {
      etcd: {
        // Three members from a one-member snapshot: each is restored under its own name and peer URL.
        replicas: 3,
        storage: { size: '1Gi', storageClassName: 'local' },
        restoreFrom: { claimName: snapshotClaim, path: snapshot.file },
      },
    });
    // The snapshot's claim is not there yet: the Cluster says so, and makes no restore pod.
    const missing = await eventually(
      'Degraded for want of the snapshot claim',
      async () => {
        const degraded = await condition('Degraded');
        return degraded?.reason === 'EtcdRestoreSourceNotFound' ? degraded : undefined;
      },
      60_000,
      250,
    );
    expect(missing.message).toContain(`claim ${snapshotClaim}`);
    expect(await boot.podsOf('etcd-restore')).toEqual([]);
    await shareSnapshotDirectory(boot, namespace, snapshotClaim);
    await waitAvailable('the restored Cluster Available');

    const wanted = JSON.stringify([0, 1, 2].map((i) => [`${clusterName}-etcd-${i}`, true, false]));
    await eventually(
      'three healthy voting members in status.etcd',
      async () => {
        const members = (await boot.getCluster(clusterName)).status?.etcd?.members ?? [];
        return JSON.stringify(members.map((m) => [m.name, m.healthy, m.isLearner])) === wanted;
      },
      60_000,
      500,
    );
    const { items: events } = await boot.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${clusterName},reason=EtcdMemberRestored`,
    });
    expect(events.map((e) => e.message?.includes(snapshot.file))).toEqual([true, true, true]);
    for (const i of [0, 1, 2]) {
      const claim = await boot.core.readNamespacedPersistentVolumeClaim({
        namespace,
        name: `data-${clusterName}-etcd-${i}`,
      });
      expect(claim.metadata?.annotations?.['clusters.kok.dev/etcd-restored-from']).toBe(
        `${snapshotClaim}/${snapshot.file}`,
      );
      // A new volume, not the deleted Cluster's (released, never bound again).
      expect(claim.spec?.volumeName).not.toBe(firstVolume);
    }
    await eventually(
      'the restore pod deleted once its volume is marked',
      async () => (await boot.podsOf('etcd-restore')).length === 0,
      30_000,
      500,
    );

    const restoredApiserver = await boot.readyPod('kube-apiserver');
    const oldKubeconfig = await pointAt(adminKubeconfig, restoredApiserver.status?.podIP ?? '');
    const kept = await eventually(
      'the ConfigMap written before the snapshot, read with the old admin kubeconfig',
      () => {
        try {
          return boot.kubectlWith(
            oldKubeconfig,
            'get',
            'configmap',
            'before-snapshot',
            '-o',
            'jsonpath={.data.kept}',
          );
        } catch {
          return undefined;
        }
      },
      60_000,
      500,
    );
    expect(kept).toBe('yes');
    expect(() => boot.kubectlWith(oldKubeconfig, 'get', 'configmap', 'after-snapshot')).toThrow(
      /NotFound|not found/,
    );
  }, 900_000);
});
