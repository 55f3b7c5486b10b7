// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/pki'.
import {
  createCertificateAuthority,
  describeCertificate,
  isSignedBy,
  issueCertificate,
  loadCertificateAuthority,
  renderKubeconfig,
} from './index.ts';

describe('a cluster CA, a serving certificate and an admin kubeconfig', () => {
  it('issues certificates a TLS client accepts for the names they carry', async () => {
    const ca = await createCertificateAuthority({ commonName: 'kubernetes-ca', validityDays: 3650 });
    // Persisted as PEM (a Secret), loaded again on the next reconcile.
    const stored = await loadCertificateAuthority({
      certificatePem: ca.certificatePem,
      privateKeyPem: ca.privateKeyPem,
    });

    const serving = await issueCertificate(stored, {
      commonName: 'kube-apiserver',
      usages: ['server'],
      dnsNames: ['kubernetes.default.svc', 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const admin = await issueCertificate(stored, {
      commonName: 'kubernetes-admin', // the user
      organizations: ['system:masters'], // its groups
      usages: ['client'],
    });

    expect(isSignedBy(serving.certificatePem, ca.certificatePem)).toBe(true);
    expect(describeCertificate(serving.certificatePem)).toMatchObject({
      dnsNames: ['kubernetes.default.svc', 'localhost'],
      ipAddresses: ['127.0.0.1'],
      extendedKeyUsages: ['serverAuth'],
      isCertificateAuthority: false,
    });
    expect(describeCertificate(admin.certificatePem).organizations).toEqual(['system:masters']);

    // A real TLS handshake: the server presents `serving`, the client trusts only the CA and
    // authenticates with `admin`.
    const server = createServer(
      { cert: serving.certificatePem, key: serving.privateKeyPem, ca: ca.certificatePem, requestCert: true },
      (socket) => socket.end(`hello ${socket.getPeerCertificate().subject.CN}`),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      servername: 'kubernetes.default.svc',
      ca: ca.certificatePem,
      cert: admin.certificatePem,
      key: admin.privateKeyPem,
    });
    const [reply] = (await once(client, 'data')) as [Buffer];
    expect(client.authorized).toBe(true);
    expect(reply.toString()).toBe('hello kubernetes-admin');
    client.destroy();
    server.close();

    const kubeconfig = renderKubeconfig({
      clusterName: 'demo',
      server: `https://127.0.0.1:${port}`,
      certificateAuthorityPem: ca.certificatePem,
      userName: 'kubernetes-admin',
      credentials: { clientCertificatePem: admin.certificatePem, clientKeyPem: admin.privateKeyPem },
    });
    expect(kubeconfig).toContain('current-context: kubernetes-admin@demo');
  });
});
// end of example

it('is the example README.md shows', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});
