/**
 * Leaf renewal against the shared control plane: the operator issues leaves
 * that live 45 s (renewed 15 s before expiry), so a Cluster's leaves are
 * renewed while the test watches — new serial, later notAfter, still signed by
 * the same CA — and the Deployments that mount them roll (their pod template
 * carries a hash of the Secrets), in gate order.
 */
import { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { isSignedBy } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from '../names.ts';
import { createOperator } from '../operator.ts';
import { clusterType, deploymentType, secretType } from '../resource-types.ts';
import { TEMPLATE_HASH_ANNOTATION } from '../template-hash.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';

const CLUSTER = 'renew';
const LEAF_SECONDS = 45;
let client: KubeClient;
let ns: string;
let operator: Manager;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-renew');
  volumes = await provisionVolumes(client, 1);
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
    pki: { leafValiditySeconds: LEAF_SECONDS },
  });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await volumes?.remove();
  client?.close();
});

const text = (secret: V1Secret | undefined, key: string) =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString();
const getSecret = (name: string) => client.get(secretType, { namespace: ns, name });
const podTemplateHash = async (name: string) =>
  (await client.get(deploymentType, { namespace: ns, name })).spec?.template.metadata?.annotations?.[
    TEMPLATE_HASH_ANNOTATION
  ];

describe('leaf renewal', () => {
  it('renews a leaf before it expires and rolls the Deployment that mounts it', async () => {
    const n = clusterNames(ns, CLUSTER);
    await client.create(clusterType, smallCluster(ns, CLUSTER, volumes.storageClass));
    const ready = await eventually(
      'the Cluster to be Ready',
      async () => {
        const c = await client.get(clusterType, { namespace: ns, name: CLUSTER });
        return c.status?.phase === 'Ready' ? c : undefined;
      },
      60_000,
    );
    const before = new X509Certificate(text(await getSecret(n.secrets.apiServerServing), 'tls.crt'));
    const templateBefore = await podTemplateHash(n.apiServer);
    // The status says when the next renewal is due: 15 s before the first leaf expires.
    const renewalTime = Date.parse(ready.status?.certificates?.renewalTime ?? '');
    expect(renewalTime).toBeLessThanOrEqual(before.validToDate.getTime() - 14_000);
    expect(Date.parse(ready.status?.certificates?.notAfter ?? '')).toBeLessThanOrEqual(
      before.validToDate.getTime(),
    );

    const after = await eventually(
      'the apiserver serving certificate to be renewed',
      async () => {
        const cert = new X509Certificate(text(await getSecret(n.secrets.apiServerServing), 'tls.crt'));
        return cert.serialNumber !== before.serialNumber ? cert : undefined;
      },
      LEAF_SECONDS * 1000,
    );
    // Renewed before expiry, not after, and for a later expiry.
    expect(Date.now()).toBeLessThan(before.validToDate.getTime());
    expect(after.validToDate.getTime()).toBeGreaterThan(before.validToDate.getTime());
    const ca = await getSecret(n.secrets.ca);
    expect(isSignedBy(after.toString(), text(ca, 'tls.crt'))).toBe(true);

    // The apiserver rolls to pods that mount the renewed certificate, and the Cluster settles again.
    const templateAfter = await eventually(
      'the apiserver pod template to change',
      async () => {
        const hash = await podTemplateHash(n.apiServer);
        return hash !== templateBefore ? hash : undefined;
      },
      30_000,
    );
    expect(templateAfter).toBeDefined();
    const settled = await eventually(
      'the Cluster to be Ready with the later notAfter',
      async () => {
        const c = await client.get(clusterType, { namespace: ns, name: CLUSTER });
        const notAfter = Date.parse(c.status?.certificates?.notAfter ?? '');
        return c.status?.phase === 'Ready' && notAfter > before.validToDate.getTime() ? c : undefined;
      },
      30_000,
    );
    expect(Date.parse(settled.status?.certificates?.renewalTime ?? '')).toBeGreaterThan(renewalTime);
    const { items: events } = await client.list(builtinTypes.event, { namespace: ns });
    const renewed = events.find((e) => e.regarding?.name === CLUSTER && e.reason === 'CertificatesRenewed');
    expect(renewed?.note).toContain(n.secrets.apiServerServing);
  }, 150_000);
});
