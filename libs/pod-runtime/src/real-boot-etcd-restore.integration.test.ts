// End to end on real etcd and kube-apiserver processes: a Cluster's etcd snapshot is taken on request, the
// Cluster is deleted, its Secrets are put back (as `kubectl kok cluster restore` does), and a new Cluster of
// the same name starts from the snapshot (spec.etcd.restoreFrom, read from the operator's own snapshot
// directory through a claim bound to it). What the biz-cluster held before the snapshot is there, what it
// got after is not, and the admin kubeconfig issued before the deletion still works.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdSnapshotView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'web';
const snapshotClaim = 'etcd-snapshots';
const clusterType = { group: 'clusters.kok.dev', version: 'v1alpha1', namespace, plural: 'clusters' };

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({
    namespace,
    workDirPrefix: 'kok-etcd-restore-',
    operatorArgs: (workDir) => [`--etcd-snapshot-dir=${join(workDir, 'snapshots')}`],
  });
  // The restored Cluster's etcd claim: the first one's volume is released, not bound again.
  await boot.addLocalVolumes(1);
});

afterAll(async () => {
  await boot?.stop();
});

const clusters = () => boot.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const condition = async (type: string) =>
  (await boot.getCluster(clusterName)).status?.conditions?.find((c) => c.type === type);

async function waitAvailable(what: string): Promise<void> {
  await eventually(what, async () => (await condition('Available'))?.status === 'True', 300_000, 1_000).catch(
    (error: unknown) => {
      throw new Error(`${String(error)}\n${boot.logs.slice(-40).join('\n')}\n${boot.containerLogs()}`);
    },
  );
}

async function requestSnapshot(value: string): Promise<EtcdSnapshotView> {
  await clusters().patchNamespacedCustomObject(
    {
      ...clusterType,
      name: clusterName,
      body: { metadata: { annotations: { 'clusters.kok.dev/etcd-snapshot-request': value } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return eventually(
    `the snapshot asked for by ${value}`,
    async () => {
      const last = (await boot.getCluster(clusterName)).status?.etcd?.lastSnapshot;
      return last?.request === value ? last : undefined;
    },
    60_000,
    500,
  );
}

/** The Cluster's identity Secrets as a backup keeps them: only what can be created again. */
async function identitySecrets(): Promise<V1Secret[]> {
  const { items } = await boot.core.listNamespacedSecret({
    namespace,
    labelSelector: `clusters.kok.dev/cluster=${clusterName},app.kubernetes.io/managed-by=kube-on-kube-operator`,
  });
  return items
    .filter((secret) => secret.metadata?.name !== `${clusterName}-etcd-join`)
    .map((secret) => ({
      metadata: {
        name: secret.metadata?.name ?? '',
        namespace,
        ...(secret.metadata?.labels ? { labels: secret.metadata.labels } : {}),
        ...(secret.metadata?.annotations ? { annotations: secret.metadata.annotations } : {}),
      },
      ...(secret.type ? { type: secret.type } : {}),
      ...(secret.data ? { data: secret.data } : {}),
    }));
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
    const snapshot = await requestSnapshot('before-delete');
    boot.kubectlWith(adminKubeconfig, 'create', 'configmap', 'after-snapshot', '--from-literal=kept=no');
    const secrets = await identitySecrets();
    expect(secrets.map((s) => s.metadata?.name)).toContain(`${clusterName}-ca`);

    await clusters().deleteNamespacedCustomObject({ ...clusterType, name: clusterName });
    await eventually(
      'the Cluster, its pods and its etcd volume gone',
      async () => {
        const clusterLeft = await clusters()
          .getNamespacedCustomObject({ ...clusterType, name: clusterName })
          .then(
            () => true,
            () => false,
          );
        const { items: pods } = await boot.core.listNamespacedPod({
          namespace,
          labelSelector: `clusters.kok.dev/cluster=${clusterName}`,
        });
        const { items: claims } = await boot.core.listNamespacedPersistentVolumeClaim({ namespace });
        return !clusterLeft && pods.length === 0 && claims.length === 0;
      },
      120_000,
      500,
    );

    // As `kubectl kok cluster restore` does: the identities back first, then the Cluster.
    for (const secret of secrets) await boot.core.createNamespacedSecret({ namespace, body: secret });
    // The operator's snapshot directory, shared with the Cluster's namespace through a volume.
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
    await boot.createCluster(clusterName, {
      etcd: {
        replicas: 1,
        storage: { size: '1Gi', storageClassName: 'local' },
        restoreFrom: { claimName: snapshotClaim, path: snapshot.file },
      },
    });
    await waitAvailable('the restored Cluster Available');

    const { items: events } = await boot.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${clusterName},reason=EtcdMemberRestored`,
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.message).toContain(snapshot.file);
    const claim = await boot.core.readNamespacedPersistentVolumeClaim({
      namespace,
      name: `data-${clusterName}-etcd-0`,
    });
    expect(claim.metadata?.annotations?.['clusters.kok.dev/etcd-restored-from']).toBe(
      `${snapshotClaim}/${snapshot.file}`,
    );
    expect(claim.spec?.volumeName).toBe('local-1');
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
