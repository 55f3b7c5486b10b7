import { X509Certificate } from 'node:crypto';
import { x509 } from './crypto-provider.ts';

/** What a certificate says about itself, for status fields and checks. */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCertificateAuthority: boolean;
  readonly extendedKeyUsages: readonly ('serverAuth' | 'clientAuth')[];
}

export function describeCertificate(certificatePem: string): CertificateInfo {
  const parsed = new x509.X509Certificate(certificatePem);
  const alternativeNames = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const extendedUsages = parsed.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  const attribute = (type: string) => parsed.subjectName.getField(type);
  return {
    subject: parsed.subject,
    issuer: parsed.issuer,
    commonName: attribute('CN')[0] ?? '',
    organizations: attribute('O'),
    dnsNames: alternativeNames.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: alternativeNames.filter((n) => n.type === 'ip').map((n) => n.value),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    isCertificateAuthority: parsed.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    extendedKeyUsages: extendedUsages.flatMap((usage) =>
      usage === x509.ExtendedKeyUsage.serverAuth
        ? (['serverAuth'] as const)
        : usage === x509.ExtendedKeyUsage.clientAuth
          ? (['clientAuth'] as const)
          : [],
    ),
  };
}

/** True when `certificatePem` carries a valid signature of `caPem` (checked by Node's OpenSSL, not by our own code). */
export function isSignedBy(certificatePem: string, caPem: string): boolean {
  const certificate = new X509Certificate(certificatePem);
  const ca = new X509Certificate(caPem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}
