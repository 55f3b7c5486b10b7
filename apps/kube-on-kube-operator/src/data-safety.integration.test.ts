/**
 * What a person's mistake must not cost: a deleted or relabelled CA or
 * service-account key Secret is not silently replaced, a Secret of someone
 * else is not adopted (a restored one, ownerless with the Cluster's labels and
 * the recorded CA, is), deleting the etcd StatefulSet loses no data, an etcd
 * gone with its volumes is not restarted empty, and a protected Cluster is not
 * torn down. One Cluster on kwok goes through these in order.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { createCertificateAuthority } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from './names.ts';
import { createOperator } from './operator.ts';
import type { ClusterObject } from './resource-types.ts';
import {
  clusterType,
  deploymentType,
  persistentVolumeClaimType,
  secretType,
  statefulSetType,
} from './resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from './test-support.ts';

const CLUSTER = 'safe';
let client: KubeClient;
let ns: string;
let operator: Manager;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
const n = () => clusterNames(ns, CLUSTER);

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-safety');
  // One for the first etcd, one for the etcd started again after its data was given up.
  volumes = await provisionVolumes(client, 2);
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
  });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await volumes?.remove();
  client?.close();
});

const getCluster = () => client.get(clusterType, { namespace: ns, name: CLUSTER });
const getSecret = (name: string) => client.get(secretType, { namespace: ns, name });
const exists = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );
const conditionOf = (c: ClusterObject, type: string) => c.status?.conditions?.find((x) => x.type === type);
const degradedWith = (reason: string) =>
  eventually(`Degraded with ${reason}`, async () => {
    const c = await getCluster();
    const degraded = conditionOf(c, 'Degraded');
    return degraded?.status === 'True' && degraded.reason === reason ? c : undefined;
  });
const ready = (what: string) =>
  eventually(
    what,
    async () => {
      const c = await getCluster();
      return c.status?.phase === 'Ready' && conditionOf(c, 'Degraded')?.status === 'False' ? c : undefined;
    },
    90_000,
  );
const caFingerprint = (secret: V1Secret) =>
  createHash('sha256')
    .update(new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64')).raw)
    .digest('hex');
const eventReasons = async () =>
  (await client.list(builtinTypes.event, { namespace: ns })).items
    .filter((e) => e.regarding?.name === CLUSTER)
    .map((e) => e.reason);
const annotate = (annotations: Record<string, string | null>) =>
  client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
    metadata: { annotations },
  });
/** A Secret as it can be created again: without what the apiserver assigned. */
const restorable = (secret: V1Secret): V1Secret => ({
  ...secret,
  metadata: {
    name: secret.metadata?.name ?? '',
    namespace: ns,
    labels: secret.metadata?.labels ?? {},
    annotations: secret.metadata?.annotations ?? {},
    ownerReferences: secret.metadata?.ownerReferences ?? [],
  },
});
const claimOf = () => client.get(persistentVolumeClaimType, { namespace: ns, name: `data-${n().etcd}-0` });
const settle = () => new Promise((r) => setTimeout(r, 3_000));

describe('PKI safety', () => {
  it('records the fingerprints of the CAs and the service-account key, and when etcd first had quorum', async () => {
    await client.create(clusterType, smallCluster(ns, CLUSTER, volumes.storageClass));
    const up = await ready('the Cluster to be Ready');
    const ca = await getSecret(n().secrets.ca);
    expect(up.status?.pki?.caSHA256).toBe(caFingerprint(ca));
    expect(up.status?.pki).toEqual({
      caSHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      frontProxyCASHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      etcdCASHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      serviceAccountKeySHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(up.status?.etcd?.initializedTime).toBeDefined();
  }, 120_000);

  it('does not make a new CA when its Secret is deleted: Degraded PKIMissing, nothing rewritten', async () => {
    const before = await getCluster();
    const serving = await getSecret(n().secrets.apiServerServing);
    await client.delete(secretType, { namespace: ns, name: n().secrets.ca });
    const held = await degradedWith('PKIMissing');
    expect(conditionOf(held, 'Degraded')?.message).toMatch(
      new RegExp(`^Secret ${n().secrets.ca} is missing, .*clusters\\.kok\\.dev/regenerate-pki`),
    );
    await settle();
    expect(await exists(getSecret(n().secrets.ca))).toBe(false);
    expect((await getSecret(n().secrets.apiServerServing)).metadata?.resourceVersion).toBe(
      serving.metadata?.resourceVersion,
    );
    expect((await getCluster()).status?.pki).toEqual(before.status?.pki);
    expect(await eventReasons()).toContain('PKIMissing');
  }, 60_000);

  it('makes a new CA once the regenerate-pki annotation asks, then removes the annotation', async () => {
    const before = (await getCluster()).status?.pki?.caSHA256;
    await annotate({ 'clusters.kok.dev/regenerate-pki': 'yes' });
    const ca = await eventually('a new CA Secret', () => getSecret(n().secrets.ca).catch(() => undefined));
    expect(caFingerprint(ca)).not.toBe(before);
    const after = await eventually(
      'the annotation to be removed and the new fingerprint recorded',
      async () => {
        const c = await getCluster();
        return c.metadata.annotations?.['clusters.kok.dev/regenerate-pki'] === undefined &&
          c.status?.pki?.caSHA256 === caFingerprint(ca)
          ? c
          : undefined;
      },
    );
    expect(after.status?.pki?.caSHA256).not.toBe(before);
    await ready('Ready again with the new CA');
    expect(await eventReasons()).toContain('PKIRegenerated');
  }, 120_000);

  it('takes back a CA Secret that lost its label instead of making a new one', async () => {
    const before = await getSecret(n().secrets.ca);
    await client.patch(secretType, { namespace: ns, name: n().secrets.ca }, PatchType.json, [
      { op: 'remove', path: '/metadata/labels/app.kubernetes.io~1managed-by' },
    ]);
    await eventually('the label to be back', async () => {
      const ca = await getSecret(n().secrets.ca);
      return ca.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'kube-on-kube-operator';
    });
    expect(caFingerprint(await getSecret(n().secrets.ca))).toBe(caFingerprint(before));
    await ready('still Ready');
  }, 60_000);

  it('does not adopt a Secret of the right name that this Cluster does not control', async () => {
    const original = await getSecret(n().secrets.serviceAccount);
    const recorded = (await getCluster()).status?.pki?.serviceAccountKeySHA256;
    await client.delete(secretType, { namespace: ns, name: n().secrets.serviceAccount });
    const stranger: V1Secret = {
      metadata: {
        name: n().secrets.serviceAccount,
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'kube-on-kube-operator' },
      },
      data: { note: Buffer.from('not yours').toString('base64') },
    };
    await eventually('the stranger Secret to be created', () =>
      client.create(secretType, stranger).then(
        () => true,
        () => false,
      ),
    );
    const held = await degradedWith('SecretNotOwned');
    expect(conditionOf(held, 'Degraded')?.message).toMatch(
      new RegExp(`^Secret ${n().secrets.serviceAccount} exists but is not controlled by this Cluster`),
    );
    await settle();
    const untouched = await getSecret(n().secrets.serviceAccount);
    expect(untouched.metadata?.ownerReferences ?? []).toEqual([]);
    expect(untouched.data).toEqual(stranger.data);
    expect(await eventReasons()).toContain('SecretNotOwned');

    // Putting the original back (a restore) is all it takes; the key is the one recorded.
    await client.delete(secretType, { namespace: ns, name: n().secrets.serviceAccount });
    await eventually('the original to be restored', () =>
      client.create(secretType, restorable(original)).then(
        () => true,
        () => false,
      ),
    );
    const back = await ready('Ready with the restored key');
    expect(back.status?.pki?.serviceAccountKeySHA256).toBe(recorded);
  }, 120_000);

  it('adopts a restored CA Secret with no owner and the Cluster’s labels, but not one holding another CA', async () => {
    const original = await getSecret(n().secrets.ca);
    const cluster = await getCluster();
    const recorded = cluster.status?.pki?.caSHA256;
    // As `kubectl kok cluster backup` writes it: labels kept, no ownerReferences (the old uid would be gone).
    const unowned = (secret: V1Secret): V1Secret => {
      const copy = restorable(secret);
      return { ...copy, metadata: { ...copy.metadata, ownerReferences: [] } };
    };
    const otherCa = await createCertificateAuthority({ commonName: 'not-the-recorded-ca' });
    const impostor = unowned({
      ...original,
      data: {
        'tls.crt': Buffer.from(otherCa.certificatePem).toString('base64'),
        'tls.key': Buffer.from(otherCa.privateKeyPem).toString('base64'),
      },
    });
    const replaceCa = async (secret: V1Secret) => {
      await client.delete(secretType, { namespace: ns, name: n().secrets.ca });
      await eventually('the CA Secret to be replaced', () =>
        client.create(secretType, secret).then(
          () => true,
          () => false,
        ),
      );
    };

    await replaceCa(impostor);
    const held = await degradedWith('PKIMismatch');
    expect(conditionOf(held, 'Degraded')?.message).toContain(`status.pki.caSHA256 records ${recorded}`);
    await settle();
    expect((await getSecret(n().secrets.ca)).metadata?.ownerReferences ?? []).toEqual([]);

    await replaceCa(unowned(original));
    const adopted = await eventually('the restored CA to be adopted', async () => {
      const ca = await getSecret(n().secrets.ca);
      return ca.metadata?.ownerReferences?.find((o) => o.controller)?.uid === cluster.metadata.uid
        ? ca
        : undefined;
    });
    expect(caFingerprint(adopted)).toBe(recorded);
    const back = await ready('Ready with the adopted CA');
    expect(back.status?.pki?.caSHA256).toBe(recorded);
    expect(await eventReasons()).toEqual(expect.arrayContaining(['PKIMismatch', 'SecretsAdopted']));
  }, 120_000);
});

describe('etcd data safety', () => {
  it('keeps the volumes when the etcd StatefulSet is deleted, and the new one uses them', async () => {
    const claim = await claimOf();
    await client.delete(statefulSetType, { namespace: ns, name: n().etcd });
    await eventually('the StatefulSet to be recreated', async () => {
      const sts = await client.get(statefulSetType, { namespace: ns, name: n().etcd }).catch(() => undefined);
      return sts && sts.metadata?.uid !== undefined ? sts : undefined;
    });
    await ready('Ready with the recreated etcd');
    await settle();
    const after = await claimOf();
    expect(after.metadata?.uid).toBe(claim.metadata?.uid);
    expect(after.metadata?.deletionTimestamp).toBeUndefined();
  }, 120_000);

  it('does not start an empty etcd once the StatefulSet and all its volumes are gone', async () => {
    await annotate({ 'clusters.kok.dev/paused': 'true' });
    await eventually('Paused', async () => (await getCluster()).status?.phase === 'Paused');
    await client.delete(statefulSetType, { namespace: ns, name: n().etcd });
    await client.delete(persistentVolumeClaimType, { namespace: ns, name: `data-${n().etcd}-0` });
    await eventually('the volume to be gone', async () => !(await exists(claimOf())), 60_000);
    await annotate({ 'clusters.kok.dev/paused': null });

    const held = await degradedWith('EtcdDataLost');
    expect(conditionOf(held, 'Degraded')?.message).toMatch(/data-safe-etcd-0/);
    await settle();
    expect(await exists(client.get(statefulSetType, { namespace: ns, name: n().etcd }))).toBe(false);
    expect(await eventReasons()).toContain('EtcdDataLost');
  }, 120_000);

  it('starts etcd again once the person clears status.etcd', async () => {
    await client.patch(
      clusterType,
      { namespace: ns, name: CLUSTER },
      PatchType.merge,
      { status: { etcd: null } },
      { subresource: 'status' },
    );
    await ready('Ready with a new etcd');
    expect(await exists(claimOf())).toBe(true);
  }, 120_000);
});

describe('deletion protection', () => {
  it('keeps a protected Cluster and everything it runs', async () => {
    await annotate({ 'clusters.kok.dev/deletion-protection': 'true' });
    await client.delete(clusterType, { namespace: ns, name: CLUSTER });
    const blocked = await eventually('DeletionBlocked', async () => {
      const c = await getCluster();
      return conditionOf(c, 'DeletionBlocked')?.status === 'True' ? c : undefined;
    });
    expect(blocked.metadata.finalizers).toContain('clusters.kok.dev/cluster');
    expect(conditionOf(blocked, 'DeletionBlocked')?.message).toMatch(
      /clusters\.kok\.dev\/deletion-protection/,
    );
    await settle();
    expect(await exists(client.get(deploymentType, { namespace: ns, name: n().apiServer }))).toBe(true);
    expect(await exists(client.get(statefulSetType, { namespace: ns, name: n().etcd }))).toBe(true);
    expect(await exists(getSecret(n().secrets.ca))).toBe(true);
    expect(await exists(getCluster())).toBe(true);
    expect(await eventReasons()).toContain('DeletionProtected');
  }, 60_000);

  it('tears down once the annotation is removed, deleting the etcd volumes itself', async () => {
    await annotate({ 'clusters.kok.dev/deletion-protection': null });
    await eventually('the Cluster to be gone', async () => !(await exists(getCluster())), 90_000);
    // The StatefulSet retains its volumes: only teardown deletes them.
    await eventually('the etcd volumes to be gone', async () => !(await exists(claimOf())), 60_000);
    expect(await exists(getSecret(n().secrets.ca))).toBe(false);
  }, 150_000);
});
