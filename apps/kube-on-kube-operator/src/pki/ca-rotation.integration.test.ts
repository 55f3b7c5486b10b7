/**
 * CA rotation against the shared control plane. Bumping
 * spec.certificates.caRotationGeneration walks every CA through TrustingNewCA,
 * ReissuingLeaves, RemovingOldCA and Completed. The operator (a process) is
 * SIGKILLed as soon as the first phase is written, the trust bundles are
 * checked as they stand (each one must accept leaves of the old and of the new
 * CA), and a new operator resumes the rotation from what the Secrets say. At the end every
 * leaf chains to the new CA only and no bundle holds an old CA. Chains are
 * checked by OpenSSL (node:crypto), not by our own code.
 */
import { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { issueCertificate, loadCertificateAuthority } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiSpecs } from './certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { createOperator } from '../operator.ts';
import type { OperatorProcess } from '../operator-process.ts';
import { startOperatorProcess } from '../operator-process.ts';
import {
  CA_ROTATION_PHASE_ANNOTATION,
  KUBECONFIG_KEY,
  splitCertificates,
  TRUST_BUNDLE_KEY,
} from './pki-material.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, deploymentType, secretType, statefulSetType } from '../resource-types.ts';
import { TEMPLATE_HASH_ANNOTATION } from '../template-hash.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';

const CLUSTER = 'rot';
let client: KubeClient;
let ns: string;
let operator: Manager | undefined;
let killed: OperatorProcess | undefined;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;

const startOperator = async () => {
  const manager = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
  });
  await manager.start();
  return manager;
};

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-ca-rotation');
  volumes = await provisionVolumes(client, 1);
  killed = await startOperatorProcess(
    sharedKubeconfigPath(),
    [
      `--namespace=${ns}`,
      '--metrics-bind-address=0',
      // info: startOperatorProcess waits for the `running` line.
      '--log-level=info',
    ],
    60_000,
  );
});

afterAll(async () => {
  killed?.child.kill('SIGKILL');
  await operator?.stop();
  await volumes?.remove();
  client?.close();
});

const text = (secret: V1Secret | undefined, key: string) =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString();
const getCluster = () => client.get(clusterType, { namespace: ns, name: CLUSTER });

/** The PKI table of the test Cluster: which Secret is a CA, a certificate or a kubeconfig, and its signer. */
function pkiTable(cluster: ClusterObject) {
  const resolved = resolveCluster(cluster);
  const names = clusterNames(ns, CLUSTER);
  return pkiSpecs({ cluster: resolved, names, endpoint: endpointOf(resolved, names, undefined) });
}

interface Pki {
  /** CA Secret name → signer name. */
  cas: Map<string, string>;
  secrets: Map<string, V1Secret>;
}

async function readPki(cluster: ClusterObject): Promise<Pki> {
  const secrets = new Map<string, V1Secret>();
  const cas = new Map<string, string>();
  for (const spec of pkiTable(cluster)) {
    secrets.set(spec.secretName, await client.get(secretType, { namespace: ns, name: spec.secretName }));
    if (spec.kind === 'ca') cas.set(spec.signer, spec.secretName);
  }
  return { cas, secrets };
}

/** Every trust bundle a consumer reads, with the signer whose leaves it must accept, and every leaf. */
function trustAndLeaves(cluster: ClusterObject, pki: Pki) {
  const bundles: { where: string; signer: string; pems: string[] }[] = [];
  const leaves: { where: string; signer: string; pem: string }[] = [];
  for (const spec of pkiTable(cluster)) {
    const secret = pki.secrets.get(spec.secretName);
    if (spec.kind === 'ca' || spec.kind === 'certificate') {
      bundles.push({
        where: `${spec.secretName}/${TRUST_BUNDLE_KEY}`,
        signer: spec.signer,
        pems: splitCertificates(text(secret, TRUST_BUNDLE_KEY)),
      });
    }
    if (spec.kind === 'certificate')
      leaves.push({ where: spec.secretName, signer: spec.signer, pem: text(secret, 'tls.crt') });
    if (spec.kind === 'kubeconfig') {
      const config = parse(text(secret, KUBECONFIG_KEY)) as {
        clusters: { cluster: { 'certificate-authority-data': string } }[];
        users: { user: { 'client-certificate-data': string } }[];
      };
      const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString();
      bundles.push({
        where: `${spec.secretName} certificate-authority-data`,
        signer: 'ca',
        pems: splitCertificates(decode(config.clusters[0]?.cluster['certificate-authority-data'])),
      });
      leaves.push({
        where: `${spec.secretName} client certificate`,
        signer: 'ca',
        pem: decode(config.users[0]?.user['client-certificate-data']),
      });
    }
  }
  return { bundles, leaves };
}

/** OpenSSL's verdict: `leaf` carries a valid signature of one of `bundle`'s certificates, which issued it. */
function verifies(bundle: readonly string[], leaf: string): boolean {
  const certificate = new X509Certificate(leaf);
  return bundle.some((pem) => {
    const ca = new X509Certificate(pem);
    return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
  });
}

const phaseOf = (secret: V1Secret | undefined) =>
  secret?.metadata?.annotations?.[CA_ROTATION_PHASE_ANNOTATION];

describe('CA rotation', () => {
  it('trusts old and new, switches the signer, then drops the old CA, resuming after the operator is SIGKILLed', async () => {
    const n = clusterNames(ns, CLUSTER);
    await client.create(clusterType, smallCluster(ns, CLUSTER, volumes.storageClass));
    const ready = await eventually(
      'the Cluster to be Ready',
      async () => {
        const c = await getCluster();
        return c.status?.phase === 'Ready' ? c : undefined;
      },
      60_000,
    );
    expect(ready.status?.conditions?.find((c) => c.type === 'CertificatesRotating')?.status).toBe('False');
    const start = await readPki(ready);
    const oldCas = new Map(
      [...start.cas].map(([signer, secret]) => [signer, text(start.secrets.get(secret), 'tls.crt')]),
    );
    const hashes = async () => ({
      etcd: (await client.get(statefulSetType, { namespace: ns, name: n.etcd })).spec?.template.metadata
        ?.annotations?.[TEMPLATE_HASH_ANNOTATION],
      apiServer: (await client.get(deploymentType, { namespace: ns, name: n.apiServer })).spec?.template
        .metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION],
    });
    const hashesBefore = await hashes();

    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      spec: { certificates: { caRotationGeneration: 1 } },
    });

    // Phase 1 written to every Secret: stop the operator there and look at what consumers read. Its Event
    // follows the Secret writes, and a successor would not record it again, so the kill waits for it too.
    await eventually(
      'every trust bundle to hold two CAs, and the CARotationStarted Event',
      async () => {
        const pki = await readPki(ready);
        const { bundles } = trustAndLeaves(ready, pki);
        const trusting =
          bundles.every((b) => b.pems.length === 2) &&
          [...pki.cas.values()].every((s) => phaseOf(pki.secrets.get(s)) === 'TrustingNewCA');
        if (!trusting) return undefined;
        const { items: events } = await client.list(builtinTypes.event, { namespace: ns });
        return events.some((e) => e.regarding?.name === CLUSTER && e.reason === 'CARotationStarted')
          ? pki
          : undefined;
      },
      30_000,
    );
    killed?.child.kill('SIGKILL');
    await killed?.exited;
    expect(killed?.child.signalCode).toBe('SIGKILL');
    const trusting = await readPki(ready);
    expect([...trusting.cas.values()].map((s) => phaseOf(trusting.secrets.get(s)))).toEqual([
      'TrustingNewCA',
      'TrustingNewCA',
      'TrustingNewCA',
    ]);
    const { bundles, leaves } = trustAndLeaves(ready, trusting);
    const newCas = new Map<string, string>();
    for (const [signer, secretName] of trusting.cas) {
      const secret = trusting.secrets.get(secretName);
      // Still signing with the old CA; the new one waits in next.crt.
      expect(text(secret, 'tls.crt')).toBe(oldCas.get(signer));
      newCas.set(signer, text(secret, 'next.crt'));
    }
    // A leaf of each new CA, as the next phase will issue them.
    const newLeaves = new Map<string, string>();
    for (const [signer, secretName] of trusting.cas) {
      const secret = trusting.secrets.get(secretName);
      const next = await loadCertificateAuthority({
        certificatePem: text(secret, 'next.crt'),
        privateKeyPem: text(secret, 'next.key'),
      });
      const leaf = await issueCertificate(next, { commonName: 'probe', usages: ['client'] });
      newLeaves.set(signer, leaf.certificatePem);
    }
    for (const bundle of bundles) {
      const oldLeaf = leaves.find((l) => l.signer === bundle.signer)?.pem ?? '';
      expect(verifies(bundle.pems, oldLeaf), `${bundle.where} accepts a leaf of the old CA`).toBe(true);
      expect(
        verifies(bundle.pems, newLeaves.get(bundle.signer) ?? ''),
        `${bundle.where} accepts a leaf of the new CA`,
      ).toBe(true);
    }
    for (const leaf of leaves)
      expect(verifies([oldCas.get(leaf.signer) ?? ''], leaf.pem), `${leaf.where} from the old CA`).toBe(true);

    // A new operator resumes from what the Secrets say and walks the remaining phases.
    operator = await startOperator();
    const done = await eventually(
      'the rotation to complete',
      async () => {
        const c = await getCluster();
        return c.status?.certificates?.caRotation?.phase === 'Completed' && c.status.phase === 'Ready'
          ? c
          : undefined;
      },
      120_000,
    );
    expect(done.status?.certificates?.caRotation?.generation).toBe(1);
    expect(done.status?.conditions?.find((c) => c.type === 'CertificatesRotating')).toMatchObject({
      status: 'False',
      reason: 'AsDesired',
    });
    const end = await readPki(done);
    const final = trustAndLeaves(done, end);
    for (const bundle of final.bundles) {
      expect(bundle.pems, `${bundle.where} holds the new CA only`).toEqual([newCas.get(bundle.signer)]);
      expect(bundle.pems).not.toContain(oldCas.get(bundle.signer));
    }
    for (const leaf of final.leaves) {
      expect(verifies([newCas.get(leaf.signer) ?? ''], leaf.pem), `${leaf.where} from the new CA`).toBe(true);
      expect(verifies([oldCas.get(leaf.signer) ?? ''], leaf.pem), `${leaf.where} not from the old`).toBe(
        false,
      );
    }
    for (const [signer, secretName] of end.cas) {
      const secret = end.secrets.get(secretName);
      expect(text(secret, 'tls.crt')).toBe(newCas.get(signer));
      expect(secret?.data?.['next.key']).toBeUndefined();
      expect(phaseOf(secret)).toBe('Completed');
    }
    expect(Date.parse(done.status?.certificates?.caNotAfter ?? '')).toBeGreaterThan(Date.now());
    // The consumers rolled onto the new material.
    const hashesAfter = await hashes();
    expect(hashesAfter.etcd).not.toBe(hashesBefore.etcd);
    expect(hashesAfter.apiServer).not.toBe(hashesBefore.apiServer);

    const { items: events } = await client.list(builtinTypes.event, { namespace: ns });
    const reasons = events.filter((e) => e.regarding?.name === CLUSTER).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'CARotationStarted',
        'CARotationReissuing',
        'CARotationRemovingOldCA',
        'CARotationCompleted',
      ]),
    );
  }, 240_000);
});
