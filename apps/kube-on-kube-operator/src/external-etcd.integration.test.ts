/**
 * spec.etcd.external against the shared meta-cluster (kwok pods turn Ready at
 * once): the operator runs no etcd and makes no etcd PKI, holds the Cluster
 * with a reason while the user's Secret is missing or broken, mounts it into
 * the apiserver and rolls the apiserver when it changes, refuses a switch
 * between internal and external etcd, and leaves the Secret on teardown. A
 * Kubernetes minor without a paired etcd holds the Cluster too. The real
 * apiserver against a real external etcd: libs/pod-runtime's real-boot tests.
 */
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from './names.ts';
import { createOperator } from './operator.ts';
import type { ClusterObject } from './resource-types.ts';
import { clusterType, deploymentType, secretType, serviceType, statefulSetType } from './resource-types.ts';
import { templateHashOf } from './template-hash.ts';
import { eventually, freshNamespace, installClusterCrds } from './test-support.ts';

const CLUSTER = 'ext';
const SECRET = 'etcd-client';
const ENDPOINTS = ['https://etcd-a.example.internal:2379', 'https://etcd-b.example.internal:2379'];
let client: KubeClient;
let ns: string;
let operator: Manager;
let material: { ca: string; crt: string; key: string; otherCa: string };
const n = () => clusterNames(ns, CLUSTER);

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-ext-etcd');
  const ca = await createCertificateAuthority({ commonName: 'external-etcd-ca' });
  const otherCa = await createCertificateAuthority({ commonName: 'external-etcd-ca-2' });
  const clientCert = await issueCertificate(ca, {
    commonName: 'kube-apiserver-etcd-client',
    usages: ['client'],
  });
  material = {
    ca: ca.certificatePem,
    crt: clientCert.certificatePem,
    key: clientCert.privateKeyPem,
    otherCa: otherCa.certificatePem,
  };
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
  client?.close();
});

const base64 = (text: string) => Buffer.from(text).toString('base64');
const cluster = (
  name: string,
  spec: Partial<ClusterObject['spec']> & { version: string },
): ClusterObject => ({
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name, namespace: ns },
  spec: {
    controlPlane: {
      apiServer: { replicas: 2 },
      controllerManager: { replicas: 1 },
      scheduler: { replicas: 1 },
    },
    nodeOperator: { enabled: false },
    ...spec,
  },
});
const getCluster = (name = CLUSTER) => client.get(clusterType, { namespace: ns, name });
const conditionOf = (c: ClusterObject, type: string) => c.status?.conditions?.find((x) => x.type === type);
const degradedWith = (reason: string, name = CLUSTER) =>
  eventually(`Cluster ${name} Degraded with ${reason}`, async () => {
    const c = await getCluster(name);
    return conditionOf(c, 'Degraded')?.status === 'True' && conditionOf(c, 'Degraded')?.reason === reason
      ? c
      : undefined;
  });
/** The operator does not watch the user's Secret: a change of the Cluster brings the reconcile that reads it. */
const touch = () =>
  client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
    metadata: { annotations: { 'test.kok.dev/touched': String(Date.now()) } },
  });
const writeSecret = async (data: Record<string, string>) => {
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET, namespace: ns },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, base64(v)])),
  };
  await client.apply(secretType, secret);
};
const exists = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );
const apiServerDeployment = () => client.get(deploymentType, { namespace: ns, name: n().apiServer });

describe('a Cluster on an external etcd', () => {
  it('is Degraded with ExternalEtcdSecretNotFound while the Secret is missing, and makes no etcd', async () => {
    await client.create(
      clusterType,
      cluster(CLUSTER, {
        version: 'v1.36.3',
        etcd: { external: { endpoints: ENDPOINTS, tlsSecretRef: { name: SECRET } } },
      }),
    );
    const held = await degradedWith('ExternalEtcdSecretNotFound');
    expect(conditionOf(held, 'Degraded')?.message).toContain(`Secret ${ns}/${SECRET}`);
    expect(conditionOf(held, 'Progressing')?.status).toBe('False');
    expect(await exists(client.get(statefulSetType, { namespace: ns, name: n().etcd }))).toBe(false);
    expect(await exists(apiServerDeployment())).toBe(false);
  });

  it('is Degraded with ExternalEtcdSecretInvalid while the Secret lacks a key', async () => {
    await writeSecret({ 'ca.crt': material.ca, 'tls.crt': material.crt });
    await touch();
    const held = await degradedWith('ExternalEtcdSecretInvalid');
    expect(conditionOf(held, 'Degraded')?.message).toContain('lacks tls.key');
  });

  it('comes up with the Secret: no etcd StatefulSet, Services or PKI; the apiserver dials the endpoints with its files', async () => {
    await writeSecret({ 'ca.crt': material.ca, 'tls.crt': material.crt, 'tls.key': material.key });
    await touch();
    const up = await eventually(
      'the Cluster to be Ready',
      async () => {
        const c = await getCluster();
        return c.status?.phase === 'Ready' && conditionOf(c, 'Degraded')?.status === 'False' ? c : undefined;
      },
      90_000,
    );
    expect(conditionOf(up, 'EtcdAvailable')).toMatchObject({ status: 'True', reason: 'ExternalEtcd' });
    expect(conditionOf(up, 'APIServerAvailable')?.status).toBe('True');
    // status.etcd is about an etcd the operator runs: the data guard never holds an external one.
    expect(up.status?.etcd).toBeUndefined();
    expect(up.status?.components?.etcd).toBeUndefined();
    expect(up.status?.pki?.etcdCASHA256).toBeUndefined();

    expect(await exists(client.get(statefulSetType, { namespace: ns, name: n().etcd }))).toBe(false);
    for (const service of [n().etcd, n().etcdClientService])
      expect(await exists(client.get(serviceType, { namespace: ns, name: service }))).toBe(false);
    const s = n().secrets;
    for (const secret of [s.etcdCA, s.etcdServer, s.etcdPeer, s.apiServerEtcdClient])
      expect(await exists(client.get(secretType, { namespace: ns, name: secret }))).toBe(false);

    const deployment = await apiServerDeployment();
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.args).toContain(`--etcd-servers=${ENDPOINTS.join(',')}`);
    const sources = deployment.spec?.template.spec?.volumes?.[0]?.projected?.sources ?? [];
    expect(sources.find((source) => source.secret?.name === SECRET)?.secret?.items).toEqual([
      { key: 'ca.crt', path: 'etcd/ca.crt' },
      { key: 'tls.crt', path: 'apiserver-etcd-client.crt' },
      { key: 'tls.key', path: 'apiserver-etcd-client.key' },
    ]);
  }, 120_000);

  it("rolls the apiserver when the Secret's content changes", async () => {
    const before = templateHashOf(await apiServerDeployment());
    await writeSecret({
      'ca.crt': `${material.ca}${material.otherCa}`,
      'tls.crt': material.crt,
      'tls.key': material.key,
    });
    await touch();
    const rolled = await eventually('a new apiserver template', async () => {
      const deployment: V1Deployment = await apiServerDeployment();
      return templateHashOf(deployment) !== before ? deployment : undefined;
    });
    expect(templateHashOf(rolled)).toBeDefined();
  });

  it('refuses to switch the Cluster to an etcd the operator runs', async () => {
    const error = await client
      .patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.json, [
        { op: 'remove', path: '/spec/etcd/external' },
      ])
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toContain('etcd.external cannot be added to or removed from an existing Cluster');
    expect((await getCluster()).spec.etcd?.external?.endpoints).toEqual(ENDPOINTS);
  });

  it("is torn down without touching the user's Secret", async () => {
    const secretBefore = await client.get(secretType, { namespace: ns, name: SECRET });
    await client.delete(clusterType, { namespace: ns, name: CLUSTER });
    await eventually('the Cluster gone', async () => !(await exists(getCluster())), 60_000);
    const secretAfter = await client.get(secretType, { namespace: ns, name: SECRET });
    expect(secretAfter.metadata?.resourceVersion).toBe(secretBefore.metadata?.resourceVersion);
    expect(secretAfter.metadata?.deletionTimestamp).toBeUndefined();
    expect(await exists(apiServerDeployment())).toBe(false);
  }, 90_000);
});

describe('the etcd version of a Cluster', () => {
  it('holds a Cluster whose Kubernetes minor has no paired etcd until spec.etcd.version names one', async () => {
    await client.create(clusterType, cluster('future', { version: 'v1.37.0', etcd: { replicas: 1 } }));
    const held = await degradedWith('EtcdVersionUnknown', 'future');
    expect(conditionOf(held, 'Degraded')?.message).toContain('set spec.etcd.version');
    expect(await exists(client.get(statefulSetType, { namespace: ns, name: `future-etcd` }))).toBe(false);
    expect(await exists(client.get(serviceType, { namespace: ns, name: `future-etcd` }))).toBe(false);

    await client.patch(clusterType, { namespace: ns, name: 'future' }, PatchType.merge, {
      spec: { etcd: { version: '3.6.16' } },
    });
    const sts = await eventually('the etcd StatefulSet', () =>
      client.get(statefulSetType, { namespace: ns, name: 'future-etcd' }).catch(() => undefined),
    );
    expect(sts.spec?.template.spec?.containers[0]?.image).toBe('registry.k8s.io/etcd:3.6.16-0');
    await client.delete(clusterType, { namespace: ns, name: 'future' });
  }, 60_000);
});
