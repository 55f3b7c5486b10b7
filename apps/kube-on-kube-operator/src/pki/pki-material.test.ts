import type { V1Secret } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { describeCertificate, isSignedBy } from '@kok/pki';
import { describe, expect, it } from 'vitest';
import { apiServerSANs, etcdPeerSANs, etcdServerSANs, pkiSpecs } from './certificates.ts';
import type { PkiInputs } from './certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import type { ClusterSpec } from '@kok/api';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { caRotationStateOf, ensurePki, KUBECONFIG_KEY, splitCertificates } from './pki-material.ts';
import type { PkiMaterial } from './pki-material.ts';
import { templateHashOf } from '../template-hash.ts';

function inputs(spec: Partial<ClusterSpec> = {}, ingress?: { ip?: string; hostname?: string }): PkiInputs {
  const cluster = resolveCluster({
    metadata: { name: 'prod', namespace: 'fleet' },
    spec: { version: 'v1.36.3', ...spec },
  });
  const names = clusterNames('fleet', 'prod');
  const service = ingress ? { status: { loadBalancer: { ingress: [ingress] } } } : undefined;
  return { cluster, names, endpoint: endpointOf(cluster, names, service), apiServerClusterIP: '10.0.0.42' };
}

const byName = (material: PkiMaterial) =>
  new Map<string, V1Secret>(material.secrets.map((s) => [s.metadata?.name ?? '', s]));
const text = (secret: V1Secret | undefined, key: string) =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString();

describe('subject alternative names', () => {
  it('the apiserver serving certificate names every way in', () => {
    const sans = apiServerSANs(
      inputs({
        certSANs: ['api.prod.example', '198.51.100.7'],
        network: { serviceCIDR: '10.100.0.0/16', dnsDomain: 'biz.local' },
      }),
    );
    expect(sans.dnsNames).toEqual([
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.biz.local',
      'prod-apiserver',
      'prod-apiserver.fleet',
      'prod-apiserver.fleet.svc',
      'localhost',
      'api.prod.example',
    ]);
    expect(sans.ipAddresses).toEqual(['198.51.100.7', '127.0.0.1', '10.100.0.1', '10.0.0.42']);
  });

  it('leaves out certSANs that are neither a DNS name nor an IP address (stored before the CRD refused them)', () => {
    const sans = apiServerSANs(
      inputs({ certSANs: ['api.prod.example', 'https://api.prod.example', 'bad name', 'fe80::1%eth0'] }),
    );
    expect(sans.dnsNames).toContain('api.prod.example');
    expect([...sans.dnsNames, ...sans.ipAddresses]).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/https:|bad name|%/)]),
    );
  });

  it.each([
    [{ ip: '203.0.113.9' }, 'ipAddresses', '203.0.113.9'],
    [{ hostname: 'lb.example' }, 'dnsNames', 'lb.example'],
  ] as const)('a LoadBalancer endpoint %j is named too', (ingress, field, value) => {
    const sans = apiServerSANs(
      inputs({ controlPlane: { apiServer: { service: { type: 'LoadBalancer' } } } }, ingress),
    );
    expect(sans[field]).toContain(value);
  });

  it('etcd serves its members through a wildcard and the client Service', () => {
    const names = clusterNames('fleet', 'prod');
    expect(etcdServerSANs(names).dnsNames).toEqual([
      '*.prod-etcd.fleet.svc',
      'prod-etcd-client',
      'prod-etcd-client.fleet',
      'prod-etcd-client.fleet.svc',
      'localhost',
    ]);
    expect(etcdPeerSANs(names)).toEqual({
      dnsNames: ['*.prod-etcd.fleet.svc', 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
  });
});

/** CN and O of the client certificate in a kubeconfig Secret. */
function kubeconfigSubject(secret: V1Secret | undefined): {
  commonName: string;
  organizations: readonly string[];
} {
  const config = new KubeConfig();
  config.loadFromString(text(secret, KUBECONFIG_KEY));
  const { commonName, organizations } = describeCertificate(
    Buffer.from(config.getCurrentUser()?.certData ?? '', 'base64').toString(),
  );
  return { commonName, organizations };
}

describe('PKI subjects', () => {
  // Who each credential is to the biz apiserver: system:masters (which RBAC cannot limit or revoke) is in none.
  it.each([
    ['prod-apiserver-serving', 'kube-apiserver', []],
    ['prod-apiserver-etcd-client', 'kube-apiserver-etcd-client', []],
    ['prod-apiserver-kubelet-client', 'kube-apiserver-kubelet-client', []],
    ['prod-front-proxy-client', 'front-proxy-client', []],
    ['prod-etcd-server', 'prod-etcd-server', []],
    ['prod-etcd-peer', 'prod-etcd-peer', []],
    ['prod-admin-kubeconfig', 'kok-admin', ['kok:cluster-admins']],
    ['prod-controller-manager-kubeconfig', 'system:kube-controller-manager', []],
    ['prod-scheduler-kubeconfig', 'system:kube-scheduler', []],
    ['prod-node-operator-kubeconfig', 'kok:node-operator', []],
  ] as const)('%s is CN=%s, O=%j', async (secretName, commonName, organizations) => {
    const spec = pkiSpecs(inputs()).find((s) => s.secretName === secretName);
    expect(spec).toMatchObject({ commonName, organizations });
    const secret = byName(await ensurePki(pkiSpecs(inputs()), new Map())).get(secretName);
    const subject =
      spec?.kind === 'kubeconfig' ? kubeconfigSubject(secret) : describeCertificate(text(secret, 'tls.crt'));
    expect(subject).toMatchObject({ commonName, organizations });
  });

  it('no stored credential is in system:masters', () => {
    for (const spec of pkiSpecs(inputs()))
      if (spec.kind === 'certificate' || spec.kind === 'kubeconfig')
        expect(spec.organizations, spec.secretName).not.toContain('system:masters');
  });
});

describe('ensurePki', () => {
  it('makes every Secret, each leaf signed by its CA with the right subject', async () => {
    const material = await ensurePki(pkiSpecs(inputs()), new Map());
    const secrets = byName(material);
    expect([...secrets.keys()].sort()).toEqual(
      [
        'ca',
        'front-proxy-ca',
        'etcd-ca',
        'sa',
        'apiserver-serving',
        'apiserver-etcd-client',
        'apiserver-kubelet-client',
        'front-proxy-client',
        'etcd-server',
        'etcd-peer',
        'admin-kubeconfig',
        'controller-manager-kubeconfig',
        'scheduler-kubeconfig',
        'node-operator-kubeconfig',
      ]
        .map((n) => `prod-${n}`)
        .sort(),
    );
    const signedBy = (leaf: string, ca: string) =>
      isSignedBy(text(secrets.get(leaf), 'tls.crt'), text(secrets.get(ca), 'tls.crt'));
    expect(signedBy('prod-apiserver-serving', 'prod-ca')).toBe(true);
    expect(signedBy('prod-apiserver-etcd-client', 'prod-etcd-ca')).toBe(true);
    expect(signedBy('prod-etcd-peer', 'prod-etcd-ca')).toBe(true);
    expect(signedBy('prod-front-proxy-client', 'prod-front-proxy-ca')).toBe(true);
    expect(signedBy('prod-apiserver-serving', 'prod-etcd-ca')).toBe(false);
    const etcdServer = describeCertificate(text(secrets.get('prod-etcd-server'), 'tls.crt'));
    expect(etcdServer.extendedKeyUsages).toEqual(['serverAuth', 'clientAuth']);
    // The apiserver's client to kubelets is an ordinary user, granted kubelet access by RBAC alone.
    expect(describeCertificate(text(secrets.get('prod-apiserver-kubelet-client'), 'tls.crt'))).toMatchObject({
      commonName: 'kube-apiserver-kubelet-client',
      organizations: [],
      extendedKeyUsages: ['clientAuth'],
    });
    expect(signedBy('prod-apiserver-kubelet-client', 'prod-ca')).toBe(true);
    expect(text(secrets.get('prod-sa'), 'sa.pub')).toMatch(/BEGIN PUBLIC KEY/);
    const kubeconfig = text(secrets.get('prod-controller-manager-kubeconfig'), KUBECONFIG_KEY);
    expect(kubeconfig).toContain('server: https://prod-apiserver.fleet.svc:6443');
    expect(kubeconfig).toContain('name: system:kube-controller-manager');
    expect(material.notAfter.getTime()).toBeLessThanOrEqual(Date.now() + 366 * 86_400_000);
  });

  it('is generated once: a second pass over the stored Secrets changes nothing', async () => {
    const first = await ensurePki(pkiSpecs(inputs()), new Map());
    const second = await ensurePki(pkiSpecs(inputs()), byName(first));
    expect(second.secrets).toEqual(first.secrets);
    expect(second.secrets.map(templateHashOf)).toEqual(first.secrets.map(templateHashOf));
  });

  it('reissues a kubelet client certificate made with system:masters (by an older operator) without it, and nothing else', async () => {
    const specs = pkiSpecs(inputs());
    const older = specs.map((spec) =>
      spec.secretName === 'prod-apiserver-kubelet-client' && spec.kind === 'certificate'
        ? { ...spec, organizations: ['system:masters'] }
        : spec,
    );
    const before = byName(await ensurePki(older, new Map()));
    const after = byName(await ensurePki(specs, before));
    const changed = [...after.keys()].filter(
      (name) => JSON.stringify(after.get(name)?.data) !== JSON.stringify(before.get(name)?.data),
    );
    expect(changed).toEqual(['prod-apiserver-kubelet-client']);
    const reissued = describeCertificate(text(after.get('prod-apiserver-kubelet-client'), 'tls.crt'));
    expect(reissued.organizations).toEqual([]);
    expect(
      isSignedBy(
        text(after.get('prod-apiserver-kubelet-client'), 'tls.crt'),
        text(before.get('prod-ca'), 'tls.crt'),
      ),
    ).toBe(true);
  });

  it('moves admin and node-operator kubeconfigs made with system:masters (by an older operator) to their own subjects, and nothing else', async () => {
    const specs = pkiSpecs(inputs());
    const older = specs.map((spec) =>
      spec.kind === 'kubeconfig' &&
      (spec.secretName === 'prod-admin-kubeconfig' || spec.secretName === 'prod-node-operator-kubeconfig')
        ? { ...spec, organizations: ['system:masters'] }
        : spec,
    );
    const before = byName(await ensurePki(older, new Map()));
    expect(kubeconfigSubject(before.get('prod-admin-kubeconfig')).organizations).toEqual(['system:masters']);
    const after = byName(await ensurePki(specs, before));
    const changed = [...after.keys()].filter(
      (name) => JSON.stringify(after.get(name)?.data) !== JSON.stringify(before.get(name)?.data),
    );
    expect(changed.sort()).toEqual(['prod-admin-kubeconfig', 'prod-node-operator-kubeconfig']);
    expect(kubeconfigSubject(after.get('prod-admin-kubeconfig'))).toEqual({
      commonName: 'kok-admin',
      organizations: ['kok:cluster-admins'],
    });
    expect(kubeconfigSubject(after.get('prod-node-operator-kubeconfig'))).toEqual({
      commonName: 'kok:node-operator',
      organizations: [],
    });
  });

  it('reissues only the serving certificate and admin kubeconfig when certSANs and the endpoint change, keeping the CA', async () => {
    const first = byName(await ensurePki(pkiSpecs(inputs()), new Map()));
    const lb = inputs(
      { certSANs: ['api.new.example'], controlPlane: { apiServer: { service: { type: 'LoadBalancer' } } } },
      { ip: '203.0.113.9' },
    );
    const second = byName(await ensurePki(pkiSpecs(lb), first));
    const changed = [...second.keys()].filter(
      (name) =>
        second.get(name)?.data?.['tls.crt'] !== first.get(name)?.data?.['tls.crt'] ||
        second.get(name)?.data?.[KUBECONFIG_KEY] !== first.get(name)?.data?.[KUBECONFIG_KEY],
    );
    expect(changed).toEqual(['prod-apiserver-serving', 'prod-admin-kubeconfig']);
    expect(describeCertificate(text(second.get('prod-apiserver-serving'), 'tls.crt')).dnsNames).toContain(
      'api.new.example',
    );
    expect(text(second.get('prod-admin-kubeconfig'), KUBECONFIG_KEY)).toContain(
      'server: https://203.0.113.9:6443',
    );
  });

  it('renews leaves that expire within the renewal window, never the CAs', async () => {
    const first = byName(await ensurePki(pkiSpecs(inputs()), new Map()));
    const later = new Date(Date.now() + 340 * 86_400_000);
    const renewed = byName(await ensurePki(pkiSpecs(inputs()), first, { now: later }));
    expect(renewed.get('prod-ca')?.data).toEqual(first.get('prod-ca')?.data);
    expect(renewed.get('prod-sa')?.data).toEqual(first.get('prod-sa')?.data);
    expect(renewed.get('prod-etcd-peer')?.data).not.toEqual(first.get('prod-etcd-peer')?.data);
  });

  it('refuses to replace a CA Secret it cannot read, and says what to do', async () => {
    const first = byName(await ensurePki(pkiSpecs(inputs()), new Map()));
    const other = byName(await ensurePki(pkiSpecs(inputs()), new Map()));
    const broken = new Map(first);
    // A certificate with someone else's key.
    broken.set('prod-ca', {
      ...first.get('prod-ca'),
      data: { ...first.get('prod-ca')?.data, 'tls.key': other.get('prod-ca')?.data?.['tls.key'] ?? '' },
    });
    await expect(ensurePki(pkiSpecs(inputs()), broken)).rejects.toThrow(
      /prod-ca does not hold a usable CA.*delete it/,
    );
  });
});

/** The CA certificate a kubeconfig trusts (certificate-authority-data), PEM. */
const kubeconfigTrust = (secret: V1Secret | undefined) =>
  Buffer.from(
    /certificate-authority-data: (\S+)/.exec(text(secret, KUBECONFIG_KEY))?.[1] ?? '',
    'base64',
  ).toString();
const kubeconfigClient = (secret: V1Secret | undefined) =>
  Buffer.from(
    /client-certificate-data: (\S+)/.exec(text(secret, KUBECONFIG_KEY))?.[1] ?? '',
    'base64',
  ).toString();

describe('leaf renewal', () => {
  it('renews every leaf a third of its life before expiry and says when the next is due', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const options = { leafValiditySeconds: 90 };
    const first = await ensurePki(pkiSpecs(inputs()), new Map(), { ...options, now: t0 });
    expect(first.renewalTime?.toISOString()).toBe('2030-01-01T00:01:00.000Z');
    expect(first.renewed).toEqual([]);
    const early = await ensurePki(pkiSpecs(inputs()), byName(first), {
      ...options,
      now: new Date(t0.getTime() + 59_000),
    });
    expect(early.secrets).toEqual(first.secrets);
    const due = new Date(t0.getTime() + 60_000);
    const renewed = await ensurePki(pkiSpecs(inputs()), byName(first), { ...options, now: due });
    expect(renewed.renewed).toHaveLength(10);
    expect(renewed.renewalTime?.toISOString()).toBe('2030-01-01T00:02:00.000Z');
    const before = describeCertificate(text(byName(first).get('prod-apiserver-serving'), 'tls.crt'));
    const after = describeCertificate(text(byName(renewed).get('prod-apiserver-serving'), 'tls.crt'));
    expect(after.notAfter.getTime()).toBeGreaterThan(before.notAfter.getTime());
    // The CAs and the service-account keys stay.
    expect(byName(renewed).get('prod-ca')?.data).toEqual(byName(first).get('prod-ca')?.data);
    expect(byName(renewed).get('prod-sa')?.data).toEqual(byName(first).get('prod-sa')?.data);
  });

  it('keeps leaves and signers of a CA Secret made before trust bundles, adding the bundle', async () => {
    const first = byName(await ensurePki(pkiSpecs(inputs()), new Map()));
    const old = new Map(first);
    const ca = first.get('prod-ca');
    const { 'ca.crt': _bundle, ...data } = ca?.data ?? {};
    old.set('prod-ca', { ...ca, data });
    const second = byName(await ensurePki(pkiSpecs(inputs()), old));
    expect(second.get('prod-ca')?.data).toEqual(first.get('prod-ca')?.data);
    expect(second.get('prod-apiserver-serving')?.data).toEqual(first.get('prod-apiserver-serving')?.data);
  });
});

describe('CA rotation material', () => {
  it('trusts both, then signs with the new CA, then trusts the new CA only', async () => {
    const specs = pkiSpecs(inputs());
    const start = byName(await ensurePki(specs, new Map()));
    const oldCa = text(start.get('prod-etcd-ca'), 'tls.crt');

    const trusting = byName(
      await ensurePki(specs, start, { caRotation: { generation: 1, phase: 'TrustingNewCA' } }),
    );
    const newCa = text(trusting.get('prod-etcd-ca'), 'next.crt');
    expect(newCa).toMatch(/BEGIN CERTIFICATE/);
    expect(text(trusting.get('prod-etcd-ca'), 'tls.crt')).toBe(oldCa);
    expect(splitCertificates(text(trusting.get('prod-etcd-ca'), 'ca.crt'))).toEqual([oldCa, newCa]);
    expect(caRotationStateOf(trusting.get('prod-etcd-ca') ?? {})).toEqual({
      generation: 1,
      phase: 'TrustingNewCA',
    });
    // Leaves still come from the old CA; their bundle and kubeconfigs trust both.
    expect(isSignedBy(text(trusting.get('prod-etcd-peer'), 'tls.crt'), oldCa)).toBe(true);
    expect(splitCertificates(text(trusting.get('prod-etcd-peer'), 'ca.crt'))).toEqual([oldCa, newCa]);
    expect(splitCertificates(kubeconfigTrust(trusting.get('prod-admin-kubeconfig')))).toHaveLength(2);
    // Repeating the phase changes nothing (a restarted operator does not make a third CA).
    const again = byName(
      await ensurePki(specs, trusting, { caRotation: { generation: 1, phase: 'TrustingNewCA' } }),
    );
    expect([...again.values()]).toEqual([...trusting.values()]);

    const reissuing = byName(
      await ensurePki(specs, trusting, { caRotation: { generation: 1, phase: 'ReissuingLeaves' } }),
    );
    expect(text(reissuing.get('prod-etcd-ca'), 'tls.crt')).toBe(newCa);
    expect(reissuing.get('prod-etcd-ca')?.data?.['next.key']).toBeUndefined();
    expect(splitCertificates(text(reissuing.get('prod-etcd-ca'), 'ca.crt'))).toEqual([newCa, oldCa]);
    expect(isSignedBy(text(reissuing.get('prod-etcd-peer'), 'tls.crt'), newCa)).toBe(true);
    const adminCa = text(reissuing.get('prod-ca'), 'tls.crt');
    expect(isSignedBy(kubeconfigClient(reissuing.get('prod-admin-kubeconfig')), adminCa)).toBe(true);
    expect(isSignedBy(text(reissuing.get('prod-apiserver-kubelet-client'), 'tls.crt'), adminCa)).toBe(true);

    const removing = byName(
      await ensurePki(specs, reissuing, { caRotation: { generation: 1, phase: 'RemovingOldCA' } }),
    );
    expect(splitCertificates(text(removing.get('prod-etcd-ca'), 'ca.crt'))).toEqual([newCa]);
    expect(splitCertificates(text(removing.get('prod-etcd-peer'), 'ca.crt'))).toEqual([newCa]);
    expect(isSignedBy(text(removing.get('prod-etcd-peer'), 'tls.crt'), oldCa)).toBe(false);
    expect(splitCertificates(kubeconfigTrust(removing.get('prod-admin-kubeconfig')))).toEqual([adminCa]);

    const completed = byName(
      await ensurePki(specs, removing, { caRotation: { generation: 1, phase: 'Completed' } }),
    );
    // Only the recorded phase changes: nothing a consumer mounts.
    for (const [name, secret] of completed) expect(secret.data).toEqual(removing.get(name)?.data);
  });

  it('a CA found a step behind (a write cut short) skips to where the others are without losing the new CA', async () => {
    const specs = pkiSpecs(inputs());
    const start = byName(
      await ensurePki(specs, new Map(), { caRotation: { generation: 0, phase: 'Completed' } }),
    );
    const rotated = byName(
      await ensurePki(specs, start, { caRotation: { generation: 1, phase: 'TrustingNewCA' } }),
    );
    const newCa = text(rotated.get('prod-ca'), 'next.crt');
    const skipped = byName(
      await ensurePki(specs, rotated, { caRotation: { generation: 1, phase: 'RemovingOldCA' } }),
    );
    expect(text(skipped.get('prod-ca'), 'tls.crt')).toBe(newCa);
    expect(splitCertificates(text(skipped.get('prod-ca'), 'ca.crt'))).toEqual([newCa]);
  });
});
