/**
 * The biz-cluster credentials as a real apiserver judges them. On kwok no
 * Cluster's apiserver serves, so the shared apiserver stands in for it, and
 * for its certificates to mean something there the Cluster is given the
 * shared control plane's CA as its own (a CA Secret it controls, made before
 * the operator starts, is reused as is). The operator installs the node API
 * bundle with the credential it mints for itself, and the kubeconfigs it
 * stores are then used as they are, only dialled at the shared apiserver.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { describeCertificate } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, ForbiddenError, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterLabels, clusterNames, clusterSelector } from '../names.ts';
import { createOperator } from '../operator.ts';
import { KUBECONFIG_KEY } from '../pki/pki-material.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, secretType } from '../resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';
import { CLUSTER_ADMINS_BINDING } from './biz-access.ts';
import { redirected } from './biz-connection.ts';
import { clusterAccessBundle } from './node-api-bundle.ts';
import { NODE_API_HASH_ANNOTATION, NODE_API_INSTALLED } from './node-tier.ts';

const CLUSTER = 'creds';
const WITHOUT_NODE_OPERATOR = 'creds-no-nodes';
let client: KubeClient;
let ns: string;
let operator: Manager | undefined;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
const opened: KubeClient[] = [];
const n = () => clusterNames(ns, CLUSTER);
const sharedServer = () => sharedKubeConfig().getCurrentCluster()?.server ?? '';
/** The shared apiserver's serving certificate names localhost. */
const dialShared = (kubeconfig: string) => {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return redirected(config, sharedServer(), 'localhost');
};

/** The shared control plane's CA, where libs/testing's control plane keeps it: pki/ beside the admin kubeconfig. */
function sharedCa(): { certificatePem: string; privateKeyPem: string } {
  const pki = join(dirname(sharedKubeconfigPath()), 'pki');
  return {
    certificatePem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    privateKeyPem: readFileSync(join(pki, 'ca.key'), 'utf8'),
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const kubeconfigOf = (secret: V1Secret) =>
  Buffer.from(secret.data?.[KUBECONFIG_KEY] ?? '', 'base64').toString();
const subjectOf = (kubeconfig: string) => {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return describeCertificate(Buffer.from(config.getCurrentUser()?.certData ?? '', 'base64').toString());
};
/** A client of the shared apiserver as the stored kubeconfig Secret `name` says. */
async function clientFrom(name: string): Promise<{ kubeconfig: string; as: KubeClient }> {
  const kubeconfig = kubeconfigOf(await client.get(secretType, { namespace: ns, name }));
  const as = new KubeClient(dialShared(kubeconfig), { qps: 50, burst: 100 });
  opened.push(as);
  return { kubeconfig, as };
}
const refused = (request: Promise<unknown>) =>
  request.then(
    () => 'allowed',
    (error: unknown) => (error instanceof ForbiddenError ? 'forbidden' : `failed: ${String(error)}`),
  );
const condition = (c: ClusterObject, type: string) => c.status?.conditions?.find((x) => x.type === type);
const getCluster = () => client.get(clusterType, { namespace: ns, name: CLUSTER });
const nodeApiInstalled = (what: string) =>
  eventually(
    what,
    async () => {
      const c = await getCluster();
      return condition(c, NODE_API_INSTALLED)?.status === 'True' &&
        c.metadata?.annotations?.[NODE_API_HASH_ANNOTATION]
        ? c
        : undefined;
    },
    120_000,
  );

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  volumes = await provisionVolumes(client, 2);
  ns = await freshNamespace(client, 'kok-biz-credentials');
  const ca = sharedCa();
  for (const [name, enabled] of [
    [CLUSTER, true],
    [WITHOUT_NODE_OPERATOR, false],
  ] as const) {
    const body = smallCluster(ns, name, volumes.storageClass, { addons: false });
    const cluster = await client.create(clusterType, {
      ...body,
      spec: { ...body.spec, nodeOperator: { enabled } },
    });
    await client.create(secretType, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: clusterNames(ns, name).secrets.ca,
        namespace: ns,
        labels: clusterLabels(name, 'pki'),
        ownerReferences: [
          {
            apiVersion: 'clusters.kok.dev/v1alpha1',
            kind: 'Cluster',
            name,
            uid: cluster.metadata?.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(ca.certificatePem), 'tls.key': b64(ca.privateKeyPem) },
    });
  }
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
    bizApiServerDial: async ({ kubeconfig }) => dialShared(kubeconfig),
  });
  await operator.start();
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  for (const c of opened) c.close();
  await volumes?.remove();
  client?.close();
});

describe('biz-cluster credentials', () => {
  it("are installed with the operator's own short-lived identity, and none stored is system:masters", async () => {
    await nodeApiInstalled('the node API installed with the minted credential');
    const binding = await client.get(builtinTypes.clusterRoleBinding, { name: CLUSTER_ADMINS_BINDING });
    expect(binding.roleRef.name).toBe('cluster-admin');
    expect(binding.metadata?.managedFields?.map((f) => f.manager)).toContain('kube-on-kube-operator');
    const { items } = await client.list(secretType, {
      namespace: ns,
      labelSelector: clusterSelector(CLUSTER),
    });
    const kubeconfigs = items.filter((s) => s.data?.[KUBECONFIG_KEY]);
    expect(kubeconfigs.map((s) => s.metadata?.name).sort()).toEqual(
      [
        n().secrets.adminKubeconfig,
        n().secrets.controllerManagerKubeconfig,
        n().secrets.nodeOperatorKubeconfig,
        n().secrets.schedulerKubeconfig,
      ].sort(),
    );
    for (const secret of kubeconfigs)
      expect(subjectOf(kubeconfigOf(secret)).organizations, secret.metadata?.name).not.toContain(
        'system:masters',
      );
  }, 180_000);

  it('the node-operator kubeconfig can do what its chart grants and is refused (403) anything else', async () => {
    await nodeApiInstalled('the node API installed');
    const { kubeconfig, as: nodeOperator } = await clientFrom(n().secrets.nodeOperatorKubeconfig);
    expect(subjectOf(kubeconfig)).toMatchObject({ commonName: 'kok:node-operator', organizations: [] });
    // Within its role: its API, Nodes, its Lease in kok-system.
    // A CRD just Established may answer 429 while its storage initializes.
    await eventually('the node-operator lists Machines', async () =>
      nodeOperator.request('GET', '/apis/nodes.kok.dev/v1alpha1/machines').then(
        () => true,
        (error: unknown) => {
          if (error instanceof ForbiddenError) throw error;
          return false;
        },
      ),
    );
    await nodeOperator.list(builtinTypes.node, {});
    const lease = await nodeOperator.create(builtinTypes.lease, {
      metadata: { name: `${ns}-probe`, namespace: 'kok-system' },
      spec: { holderIdentity: ns },
    });
    await client.delete(builtinTypes.lease, { namespace: 'kok-system', name: lease.metadata?.name ?? '' });
    // Outside it: Secrets, making itself cluster-admin, namespaces.
    expect(await refused(nodeOperator.list(builtinTypes.secret, { namespace: 'kube-system' }))).toBe(
      'forbidden',
    );
    expect(
      await refused(
        nodeOperator.create(builtinTypes.clusterRoleBinding, {
          metadata: { name: `${ns}-escalate` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kok:node-operator' }],
        }),
      ),
    ).toBe('forbidden');
    expect(
      await refused(nodeOperator.create(builtinTypes.namespace, { metadata: { name: `${ns}-nope` } })),
    ).toBe('forbidden');
  }, 180_000);

  it('the admin kubeconfig is cluster-admin through its binding: deleting the binding revokes it, a reinstall restores it', async () => {
    await nodeApiInstalled('the node API installed');
    const { kubeconfig, as: admin } = await clientFrom(n().secrets.adminKubeconfig);
    expect(subjectOf(kubeconfig)).toMatchObject({
      commonName: 'kok-admin',
      organizations: ['kok:cluster-admins'],
    });
    expect(await refused(admin.list(builtinTypes.secret, { namespace: 'kube-system' }))).toBe('allowed');
    const probe = `${ns}-admin-probe`;
    await admin.create(builtinTypes.namespace, { metadata: { name: probe } });
    await admin.delete(builtinTypes.namespace, { name: probe });

    await client.delete(builtinTypes.clusterRoleBinding, { name: CLUSTER_ADMINS_BINDING });
    await eventually(
      'the admin kubeconfig refused once its binding is gone',
      async () =>
        (await refused(admin.list(builtinTypes.secret, { namespace: 'kube-system' }))) === 'forbidden',
      30_000,
    );
    // The operator installs the bundle again when its recorded hash is removed.
    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      metadata: { annotations: { [NODE_API_HASH_ANNOTATION]: null } },
    });
    await eventually(
      'the admin kubeconfig allowed again after the reinstall',
      async () =>
        (await refused(admin.list(builtinTypes.secret, { namespace: 'kube-system' }))) === 'allowed',
      120_000,
    );
  }, 300_000);

  it("installs the admin kubeconfig's binding with the node-operator disabled, and the node API not", async () => {
    const getOther = () => client.get(clusterType, { namespace: ns, name: WITHOUT_NODE_OPERATOR });
    const c = await eventually(
      'the admin binding recorded as installed',
      async () => {
        const other = await getOther();
        return other.metadata?.annotations?.[NODE_API_HASH_ANNOTATION] === clusterAccessBundle().hash
          ? other
          : undefined;
      },
      120_000,
    );
    expect(condition(c, NODE_API_INSTALLED)).toMatchObject({
      status: 'False',
      reason: 'NodeOperatorDisabled',
    });
    const { items } = await client.list(builtinTypes.event, { namespace: ns });
    expect(
      items.some((e) => e.reason === 'NodeAPIInstalled' && e.regarding?.name === WITHOUT_NODE_OPERATOR),
    ).toBe(true);
    const { as: admin } = await clientFrom(clusterNames(ns, WITHOUT_NODE_OPERATOR).secrets.adminKubeconfig);
    expect(await refused(admin.list(builtinTypes.secret, { namespace: 'kube-system' }))).toBe('allowed');
  }, 180_000);
});
