import { isIP } from 'node:net';
import type { CertificateAuthority } from './certificate-authority.ts';
import { x509 } from './crypto-provider.ts';
import { formatName, type DistinguishedName } from './distinguished-name.ts';
import { generateKeyPair, signingAlgorithmFor, type KeyAlgorithm } from './key-pair.ts';
import { randomSerialNumber } from './serial-number.ts';
import { validityWindow } from './validity.ts';

/** What the certificate is for: TLS server (serving), TLS client (authenticating to a server), or both (etcd peers). */
export type CertificateUsage = 'server' | 'client';

export interface CertificateRequest extends DistinguishedName {
  readonly usages: readonly CertificateUsage[];
  /** DNS subject alternative names. Default: none. */
  readonly dnsNames?: readonly string[];
  /** IP subject alternative names (v4 or v6). Default: none. */
  readonly ipAddresses?: readonly string[];
  /** Validity in days. Default: 365 (kubeadm's leaf validity). */
  readonly validityDays?: number;
  /** Default: 'ecdsa-p256'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Issuing time. Default: now. */
  readonly now?: Date;
}

/** A leaf certificate and its private key, both PEM. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
}

export async function issueCertificate(
  ca: CertificateAuthority,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  if (request.usages.length === 0)
    throw new Error(`certificate "${request.commonName}" needs at least one usage (server, client)`);
  for (const ip of request.ipAddresses ?? []) {
    if (!isIP(ip)) throw new Error(`certificate "${request.commonName}": "${ip}" is not an IP address`);
  }
  if (request.usages.includes('server') && !request.dnsNames?.length && !request.ipAddresses?.length) {
    throw new Error(`serving certificate "${request.commonName}" needs at least one DNS name or IP address`);
  }
  const keyPair = await generateKeyPair(request.keyAlgorithm ?? 'ecdsa-p256');
  const window = validityWindow({ days: request.validityDays ?? 365, now: request.now });
  // A leaf never outlives its CA: clients would reject the chain at the CA's expiry anyway.
  const notAfter = window.notAfter > ca.notAfter ? ca.notAfter : window.notAfter;

  const keyUsage =
    keyPair.algorithm === 'rsa-2048'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const extendedUsages = request.usages.map((usage) =>
    usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
  );
  const alternativeNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];

  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: formatName(request),
    issuer: ca.certificate.subject,
    notBefore: window.notBefore,
    notAfter,
    publicKey: keyPair.cryptoKeys.publicKey,
    signingKey: ca.keyPair.cryptoKeys.privateKey,
    signingAlgorithm: signingAlgorithmFor(ca.keyPair.algorithm),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(keyUsage, true),
      new x509.ExtendedKeyUsageExtension(extendedUsages, false),
      ...(alternativeNames.length ? [new x509.SubjectAlternativeNameExtension(alternativeNames, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keyPair.cryptoKeys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem') + '\n',
    privateKeyPem: keyPair.privateKeyPem,
    notAfter,
  };
}
