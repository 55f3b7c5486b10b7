/**
 * Backup and restore of a meta-cluster's Cluster, for real: the
 * kube-on-kube-operator boots a Cluster on the local pod runtime (real etcd,
 * kube-apiserver, controller-manager and scheduler); `kubectl kok cluster
 * backup` saves it; the Cluster and its Secrets then vanish from the
 * meta-cluster the way a lost meta-cluster loses them (no teardown by the
 * operator: its etcd volume stays, as volumes outside the meta-cluster would);
 * `kubectl kok cluster restore` puts them back, the operator adopts the
 * Secrets, and the biz apiserver comes back under the same CA, answering the
 * admin kubeconfig saved before the loss, with its data. Lost again, volumes
 * and all, `cluster restore --etcd-snapshot-claim` brings it back from the
 * etcd snapshot the backup took: what etcd held before the backup is there,
 * what it got after is not.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRealBoot } from '@kok/pod-runtime/real-boot';
import type { RealBoot } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kok } from './test-support/plugin-process.ts';

const namespace = 'restore';
const clusterName = 'prod';
const clusterLabel = `clusters.kok.dev/cluster=${clusterName}`;

interface ClusterJson {
  metadata: { uid: string; deletionTimestamp?: string };
  spec: { etcd?: { restoreFrom?: { claimName: string; path: string } } };
  status?: {
    phase?: string;
    pki?: { caSHA256?: string; serviceAccountKeySHA256?: string };
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}
interface SecretJson {
  metadata: { ownerReferences?: { uid: string; controller?: boolean }[] };
}

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({
    namespace,
    workDirPrefix: 'kok-backup-restore-',
    operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
  });
}, 240_000);

afterAll(async () => {
  await boot?.stop();
});

const kubectlJson = <T>(...args: string[]): T => JSON.parse(boot.kubectl(...args, '-o', 'json')) as T;
const getCluster = () => kubectlJson<ClusterJson>('get', 'cluster', clusterName, '-n', namespace);
const clusterExists = () => boot.kubectl('get', 'clusters', '-n', namespace, '-o', 'name').trim() !== '';
const plugin = (...args: string[]) => kok([...args, '--kubeconfig', boot.controlPlane.kubeconfigPath]);
/** What a timed-out wait adds: the Cluster's phase and conditions, the runtime's and the operator's last lines. */
function stateOnTimeout(): string {
  const attempt = (read: () => string) => {
    try {
      return read();
    } catch (error) {
      return String(error);
    }
  };
  const cluster = attempt(() => {
    const status = getCluster().status;
    return [
      `Cluster ${namespace}/${clusterName}: phase ${status?.phase ?? '(none)'}`,
      ...(status?.conditions ?? []).map(
        (c) => `  ${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`,
      ),
    ].join('\n');
  });
  return [
    cluster,
    `--- the runtime's last log lines`,
    ...boot.logs.slice(-20),
    attempt(boot.containerLogs),
  ].join('\n');
}
const waitOptions = { intervalMs: 250, context: stateOnTimeout };

const ready = (what: string) =>
  eventually(
    what,
    async () => {
      try {
        return getCluster().status?.phase === 'Ready';
      } catch {
        return false;
      }
    },
    180_000,
    waitOptions,
  );

/** A copy of kubeconfig `path` that dials `ip`, keeping its port and TLS server name. */
function retarget(path: string, ip: string, file: string): string {
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
  };
  for (const entry of config.clusters) {
    const port = new URL(entry.cluster['server'] ?? '').port;
    entry.cluster['server'] = `https://${ip}:${port}`;
  }
  const target = join(boot.workDir, file);
  writeFileSync(target, JSON.stringify(config));
  return target;
}

// An apiserver may be mid-restart: a request gives up soon and the caller asks again.
const bizKubectl = (kubeconfig: string, ...args: string[]) =>
  boot.kubectlWith(kubeconfig, '--request-timeout=5s', ...args);

describe('kubectl kok cluster backup and restore', () => {
  it('brings a lost Cluster back under its own CA: the admin kubeconfig saved before answers again', async () => {
    await boot.createCluster(clusterName);
    await ready('the Cluster to be Ready');
    const before = getCluster();
    const apiServer = await boot.readyPod('kube-apiserver');
    const oldKubeconfig = await boot.adminKubeconfig(
      clusterName,
      apiServer.status?.podIP ?? '',
      'old.kubeconfig',
    );
    // Something to find after the restore: the etcd volume outlives the meta-cluster's objects.
    bizKubectl(oldKubeconfig, 'create', 'namespace', 'before-backup');
    const caSHA256 = before.status?.pki?.caSHA256;
    expect(caSHA256).toMatch(/^[0-9a-f]{64}$/);

    const backup = await plugin('cluster', 'backup', clusterName, '-n', namespace, '--etcd-snapshot');
    expect(backup.stderr).toContain('holds PRIVATE KEYS');
    expect(backup.stderr).toContain(`note: etcd snapshot of ${namespace}/${clusterName}: `);
    expect(backup.code).toBe(0);
    // The header names the snapshot the operator took for this backup, on its snapshot volume, as it is.
    const named = new RegExp(
      `^# etcd snapshot of ${namespace}/${clusterName}: (\\S+) on the operator's snapshot volume ` +
        '\\(revision (\\d+), sha256 ([0-9a-f]{64}), taken \\S+\\)$',
      'm',
    ).exec(backup.stdout);
    expect(named, backup.stdout.split('\n---\n')[0]).not.toBeNull();
    const [, snapshotFile = '', revision = '', snapshotSHA256 = ''] = named ?? [];
    const snapshotPath = join(boot.workDir, 'snapshots', snapshotFile);
    expect(existsSync(snapshotPath)).toBe(true);
    expect(createHash('sha256').update(readFileSync(snapshotPath)).digest('hex')).toBe(snapshotSHA256);
    expect(Number(revision)).toBeGreaterThan(0);
    expect(backup.stdout).not.toContain('# No etcd data');
    expect(backup.stdout).not.toMatch(/ownerReferences|resourceVersion|uid:|managedFields|status:/);
    // Identities only: the etcd join Secret would tell the restored etcd to join members that are gone.
    expect(backup.stdout).toContain(`name: ${clusterName}-ca\n`);
    expect(backup.stdout).not.toContain(`${clusterName}-etcd-join`);
    const backupFile = join(boot.workDir, 'backup.yaml');
    writeFileSync(backupFile, backup.stdout);

    // The meta-cluster loses the Cluster and its Secrets without a teardown (that would delete the etcd
    // volume): deletion protection holds the operator off, then the finalizer goes and the garbage
    // collector takes what the Cluster owned.
    boot.kubectl(
      'annotate',
      'cluster',
      clusterName,
      '-n',
      namespace,
      'clusters.kok.dev/deletion-protection=true',
    );
    boot.kubectl('delete', 'cluster', clusterName, '-n', namespace, '--wait=false');
    await eventually(
      'the operator to hold the deletion',
      async () =>
        getCluster().status?.conditions?.some((c) => c.type === 'DeletionBlocked' && c.status === 'True') ??
        false,
      60_000,
      waitOptions,
    );
    boot.kubectl(
      'patch',
      'cluster',
      clusterName,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    );
    boot.kubectl('delete', 'secrets', '-n', namespace, '-l', clusterLabel, '--wait=false');
    await eventually(
      'the Cluster, its Secrets, workloads, Services and pods to be gone',
      async () =>
        !clusterExists() &&
        boot
          .kubectl(
            'get',
            'secrets,deployments,statefulsets,services,networkpolicies,pods',
            '-n',
            namespace,
            '-l',
            clusterLabel,
            '-o',
            'name',
          )
          .trim() === '',
      120_000,
      { ...waitOptions, intervalMs: 500 },
    );
    expect(boot.kubectl('get', 'pvc', '-n', namespace, '-o', 'name').trim()).toBe(
      `persistentvolumeclaim/data-${clusterName}-etcd-0`,
    );

    const restore = await plugin('cluster', 'restore', '-f', backupFile);
    expect(restore.stderr).toContain('adopts the restored Secrets');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`secret/${clusterName}-ca created\n`);
    expect(restore.stdout).toContain(`secret/${clusterName}-admin-kubeconfig created\n`);
    expect(restore.stdout).toMatch(new RegExp(`cluster\\.clusters\\.kok\\.dev/${clusterName} created\\n$`));

    await ready('the restored Cluster to be Ready');
    const after = getCluster();
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.status?.pki?.caSHA256).toBe(caSHA256);
    expect(after.status?.pki?.serviceAccountKeySHA256).toBe(before.status?.pki?.serviceAccountKeySHA256);
    // Adopted: controlled by the new Cluster, so a later teardown or garbage collection takes it.
    const ca = kubectlJson<SecretJson>('get', 'secret', `${clusterName}-ca`, '-n', namespace);
    expect(ca.metadata.ownerReferences?.filter((o) => o.controller).map((o) => o.uid)).toEqual([
      after.metadata.uid,
    ]);

    const restoredApiServer = await boot.readyPod('kube-apiserver', apiServer.metadata?.name);
    const oldAtNewAddress = retarget(
      oldKubeconfig,
      restoredApiServer.status?.podIP ?? '',
      'old-at-new.kubeconfig',
    );
    await eventually(
      'the restored apiserver to answer the admin kubeconfig saved before the loss',
      () => {
        try {
          return bizKubectl(oldAtNewAddress, 'get', '--raw', '/readyz') === 'ok';
        } catch {
          return false;
        }
      },
      60_000,
      waitOptions,
    );
    expect(bizKubectl(oldAtNewAddress, 'get', 'namespace', 'before-backup', '-o', 'name')).toBe(
      'namespace/before-backup\n',
    );

    // Lost again, this time with its etcd volume (a teardown): the snapshot the backup took brings etcd back.
    bizKubectl(oldAtNewAddress, 'create', 'namespace', 'after-backup');
    boot.kubectl('delete', 'cluster', clusterName, '-n', namespace, '--wait=false');
    await eventually(
      'the Cluster, its Secrets, pods and etcd volume to be gone',
      async () =>
        !clusterExists() &&
        boot.kubectl('get', 'secrets,pods,pvc', '-n', namespace, '-l', clusterLabel, '-o', 'name').trim() ===
          '' &&
        boot.kubectl('get', 'pvc', '-n', namespace, '-o', 'name').trim() === '',
      120_000,
      { ...waitOptions, intervalMs: 500 },
    );
    // The new etcd claim's volume (the first one is released, not bound again), and the operator's snapshot
    // directory as a claim in the Cluster's namespace.
    await boot.addLocalVolumes(1);
    const snapshotClaim = 'etcd-snapshots';
    await boot.core.createPersistentVolume({
      body: {
        metadata: { name: snapshotClaim },
        spec: {
          storageClassName: '',
          capacity: { storage: '1Gi' },
          accessModes: ['ReadOnlyMany'],
          hostPath: { path: join(boot.workDir, 'snapshots') },
          claimRef: { namespace, name: snapshotClaim },
        },
      },
    });
    await boot.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: snapshotClaim },
        spec: {
          storageClassName: '',
          volumeName: snapshotClaim,
          accessModes: ['ReadOnlyMany'],
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });

    const fromSnapshot = await plugin(
      'cluster',
      'restore',
      '-f',
      backupFile,
      '--etcd-snapshot-claim',
      snapshotClaim,
    );
    expect(fromSnapshot.stderr).toContain(
      `Cluster ${namespace}/${clusterName} starts its etcd from ${snapshotFile} on claim ${snapshotClaim} in namespace ${namespace}\n`,
    );
    expect(fromSnapshot.code).toBe(0);
    expect(fromSnapshot.stdout).toMatch(
      new RegExp(`cluster\\.clusters\\.kok\\.dev/${clusterName} created\\n$`),
    );
    expect(getCluster().spec.etcd?.restoreFrom).toEqual({ claimName: snapshotClaim, path: snapshotFile });

    await ready('the Cluster restored from the snapshot to be Ready');
    expect(getCluster().status?.pki?.caSHA256).toBe(caSHA256);
    const fromSnapshotApiServer = await boot.readyPod('kube-apiserver', restoredApiServer.metadata?.name);
    const oldAtLatestAddress = retarget(
      oldKubeconfig,
      fromSnapshotApiServer.status?.podIP ?? '',
      'old-at-latest.kubeconfig',
    );
    await eventually(
      'the apiserver restored from the snapshot to answer the admin kubeconfig saved before the loss',
      () => {
        try {
          return bizKubectl(oldAtLatestAddress, 'get', '--raw', '/readyz') === 'ok';
        } catch {
          return false;
        }
      },
      60_000,
      waitOptions,
    );
    expect(bizKubectl(oldAtLatestAddress, 'get', 'namespace', 'before-backup', '-o', 'name')).toBe(
      'namespace/before-backup\n',
    );
    expect(() => bizKubectl(oldAtLatestAddress, 'get', 'namespace', 'after-backup')).toThrow(
      /NotFound|not found/,
    );
  }, 900_000);
});
