import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, loadCertificateAuthority } from './certificate-authority.ts';
import { describeCertificate, isSignedBy } from './certificate-info.ts';
import { issueCertificate } from './certificate.ts';

const now = new Date('2026-01-01T00:00:00Z');
const day = 24 * 60 * 60 * 1000;

describe('certificate authority', () => {
  it('is a self-signed CA valid for the requested days', async () => {
    const ca = await createCertificateAuthority({
      commonName: 'kok-ca',
      organizations: ['kok'],
      validityDays: 10,
      now,
    });
    const info = describeCertificate(ca.certificatePem);
    expect(info.isCertificateAuthority).toBe(true);
    expect(info.commonName).toBe('kok-ca');
    expect(info.organizations).toEqual(['kok']);
    expect(info.notAfter.getTime()).toBe(now.getTime() + 10 * day);
    expect(info.notBefore.getTime()).toBeLessThan(now.getTime());
    expect(isSignedBy(ca.certificatePem, ca.certificatePem)).toBe(true);
    expect(new X509Certificate(ca.certificatePem).ca).toBe(true);
  });

  it('reloads from its PEM pair and keeps signing verifiable certificates', async () => {
    const original = await createCertificateAuthority({ commonName: 'reload-ca' });
    const reloaded = await loadCertificateAuthority(original);
    const leaf = await issueCertificate(reloaded, { commonName: 'c', usages: ['client'] });
    expect(isSignedBy(leaf.certificatePem, original.certificatePem)).toBe(true);
  });

  it('refuses a private key that belongs to another CA', async () => {
    const a = await createCertificateAuthority({ commonName: 'a' });
    const b = await createCertificateAuthority({ commonName: 'b' });
    await expect(
      loadCertificateAuthority({ certificatePem: a.certificatePem, privateKeyPem: b.privateKeyPem }),
    ).rejects.toThrow(/does not match/);
  });

  it('refuses to load a leaf certificate as a CA', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca' });
    const leaf = await issueCertificate(ca, { commonName: 'leaf', usages: ['client'] });
    await expect(loadCertificateAuthority(leaf)).rejects.toThrow(/not a CA/);
  });

  it('supports RSA CAs', async () => {
    const ca = await createCertificateAuthority({ commonName: 'rsa-ca', keyAlgorithm: 'rsa-2048' });
    const leaf = await issueCertificate(ca, { commonName: 'x', usages: ['server'], dnsNames: ['x.example'] });
    expect(isSignedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
  });
});

describe('issued certificates', () => {
  const cases = [
    {
      name: 'apiserver serving certificate',
      request: {
        commonName: 'kube-apiserver',
        usages: ['server'] as const,
        dnsNames: ['kubernetes', 'kubernetes.default.svc', 'api.example.com'],
        ipAddresses: ['127.0.0.1', '10.0.0.1', '::1'],
      },
      extendedKeyUsages: ['serverAuth'],
    },
    {
      name: 'admin client certificate',
      request: { commonName: 'kok-admin', organizations: ['system:masters'], usages: ['client'] as const },
      extendedKeyUsages: ['clientAuth'],
    },
    {
      name: 'etcd peer certificate (both usages)',
      request: { commonName: 'etcd-0', usages: ['server', 'client'] as const, dnsNames: ['etcd-0.etcd'] },
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
    },
  ];

  it.each(cases)(
    '$name: verifies against its CA with the SANs, usages and names asked for',
    async ({ request, extendedKeyUsages }) => {
      const ca = await createCertificateAuthority({ commonName: 'ca', now });
      const leaf = await issueCertificate(ca, { ...request, validityDays: 30, now });
      const info = describeCertificate(leaf.certificatePem);
      expect(isSignedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
      expect(info.isCertificateAuthority).toBe(false);
      expect(info.commonName).toBe(request.commonName);
      expect(info.organizations).toEqual('organizations' in request ? request.organizations : []);
      expect(info.dnsNames).toEqual('dnsNames' in request ? request.dnsNames : []);
      expect(info.ipAddresses).toEqual('ipAddresses' in request ? request.ipAddresses : []);
      expect(info.extendedKeyUsages).toEqual(extendedKeyUsages);
      expect(info.notAfter.getTime()).toBe(now.getTime() + 30 * day);
      // Node's own parser agrees on the SANs.
      const node = new X509Certificate(leaf.certificatePem);
      for (const dns of info.dnsNames) expect(node.checkHost(dns)).toBe(dns);
      for (const ip of info.ipAddresses) expect(node.checkIP(ip)).toBe(ip);
    },
  );

  it('does not verify against a different CA', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca' });
    const other = await createCertificateAuthority({ commonName: 'ca' });
    const leaf = await issueCertificate(ca, { commonName: 'x', usages: ['client'] });
    expect(isSignedBy(leaf.certificatePem, other.certificatePem)).toBe(false);
  });

  it('never outlives its CA', async () => {
    const ca = await createCertificateAuthority({ commonName: 'short-ca', validityDays: 2, now });
    const leaf = await issueCertificate(ca, { commonName: 'x', usages: ['client'], validityDays: 365, now });
    expect(leaf.notAfter.getTime()).toBe(ca.notAfter.getTime());
  });

  it.each([
    [{ commonName: 'x', usages: [] }, /at least one usage/],
    [{ commonName: 'x', usages: ['server'] }, /at least one DNS name or IP/],
    [{ commonName: 'x', usages: ['server'], ipAddresses: ['10.0.0.300'] }, /not an IP address/],
    [{ commonName: '', usages: ['client'] }, /needs a commonName/],
    [{ commonName: 'x', usages: ['client'], validityDays: 0 }, /positive number of days/],
  ] as const)('rejects a bad request %#', async (request, message) => {
    const ca = await createCertificateAuthority({ commonName: 'ca' });
    await expect(issueCertificate(ca, request)).rejects.toThrow(message);
  });
});
