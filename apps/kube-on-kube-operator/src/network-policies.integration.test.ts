/**
 * The operator gives every Cluster its control-plane NetworkPolicies on a real
 * apiserver: created with the first objects, owned by the Cluster, and put
 * back when deleted. (The shared control plane has no CNI: nothing enforces
 * them here; what they allow is pinned in components/network-policies.test.ts.)
 */
import type { Manager } from '@kok/reconcile';
import { KubeClient } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSelector } from './names.ts';
import { createOperator } from './operator.ts';
import { clusterType, networkPolicyType } from './resource-types.ts';
import { eventually, freshNamespace, installClusterCrds, smallCluster } from './test-support.ts';

let client: KubeClient;
let ns: string;
let operator: Manager;
const CLUSTER = 'isolated';
const expectedNames = [
  `${CLUSTER}-etcd`,
  `${CLUSTER}-kube-apiserver`,
  `${CLUSTER}-kube-controller-manager`,
  `${CLUSTER}-kube-scheduler`,
  `${CLUSTER}-node-operator`,
];

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-netpol');
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
  });
  await operator.start();
});

afterAll(async () => {
  await client?.delete(clusterType, { namespace: ns, name: CLUSTER }).catch(() => undefined);
  await eventually(
    'the Cluster gone',
    async () =>
      !(await client.list(clusterType, { namespace: ns })).items.some((c) => c.metadata.name === CLUSTER),
    60_000,
  ).catch(() => undefined);
  await operator?.stop();
  client?.close();
});

describe('control-plane NetworkPolicies', () => {
  it('are created for a Cluster, owned by it, and put back when deleted', async () => {
    // No volume for etcd: the Cluster stays Provisioning, which is all this needs.
    await client.create(clusterType, smallCluster(ns, CLUSTER, 'none'));
    const cluster = await client.get(clusterType, { namespace: ns, name: CLUSTER });
    const policies = await eventually('five NetworkPolicies', async () => {
      const { items: listed } = await client.list(networkPolicyType, {
        namespace: ns,
        labelSelector: clusterSelector(CLUSTER),
      });
      return listed.length === expectedNames.length ? listed : undefined;
    });
    expect(policies.map((p) => p.metadata?.name).sort()).toEqual(expectedNames);
    for (const policy of policies)
      expect(policy.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'Cluster',
          name: CLUSTER,
          uid: cluster.metadata.uid,
          controller: true,
        }),
      ]);
    // As the apiserver stored it: `from` kept (not client-node's `_from`), ports by name.
    const etcd = policies.find((p) => p.metadata?.name === `${CLUSTER}-etcd`);
    expect(etcd?.spec.ingress[1]).toEqual({
      from: [
        {
          podSelector: {
            matchLabels: { 'clusters.kok.dev/cluster': CLUSTER, 'clusters.kok.dev/component': 'etcd' },
          },
        },
      ],
      ports: [{ port: 'peer', protocol: 'TCP' }],
    });

    const deleted = policies[0]?.metadata?.name ?? '';
    const uid = policies[0]?.metadata?.uid;
    await client.delete(networkPolicyType, { namespace: ns, name: deleted });
    await eventually('the deleted NetworkPolicy back', async () => {
      const again = await client
        .get(networkPolicyType, { namespace: ns, name: deleted })
        .catch(() => undefined);
      return again !== undefined && again.metadata?.uid !== uid;
    });
  });
});
