import { x509 } from './crypto-provider.ts';
import { formatName, type DistinguishedName } from './distinguished-name.ts';
import {
  generateKeyPair,
  importKeyPair,
  signingAlgorithmFor,
  type KeyAlgorithm,
  type KeyPair,
} from './key-pair.ts';
import { randomSerialNumber } from './serial-number.ts';
import { validityWindow } from './validity.ts';

/** A CA that can sign certificates. Persist `certificatePem` and `privateKeyPem`; reload with `loadCertificateAuthority`. */
export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
  /** @internal the parsed certificate and key used for signing. */
  readonly certificate: x509.X509Certificate;
  readonly keyPair: KeyPair;
}

export interface CertificateAuthorityOptions extends DistinguishedName {
  /** Validity in days. Default: 3650 (ten years, as kubeadm does for its CAs). */
  readonly validityDays?: number;
  /** Default: 'ecdsa-p256'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Issuing time. Default: now. */
  readonly now?: Date;
}

export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const keyPair = await generateKeyPair(options.keyAlgorithm ?? 'ecdsa-p256');
  const { notBefore, notAfter } = validityWindow({ days: options.validityDays ?? 3650, now: options.now });
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: formatName(options),
    notBefore,
    notAfter,
    keys: keyPair.cryptoKeys,
    signingAlgorithm: signingAlgorithmFor(keyPair.algorithm),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keyPair.cryptoKeys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem') + '\n',
    privateKeyPem: keyPair.privateKeyPem,
    notAfter,
    certificate,
    keyPair,
  };
}

/** Rebuilds a CA from the PEM pair stored earlier (e.g. in a Secret); fails if they do not belong together. */
export async function loadCertificateAuthority(pems: {
  certificatePem: string;
  privateKeyPem: string;
}): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(pems.certificatePem);
  const keyPair = await importKeyPair(pems.privateKeyPem);
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca)
    throw new Error(`certificate "${certificate.subject}" is not a CA (basicConstraints CA:false)`);
  const certificateKey = Buffer.from(certificate.publicKey.rawData).toString('base64');
  const privateKeysPublicKey = keyPair.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
  if (certificateKey !== privateKeysPublicKey) {
    throw new Error(
      `the private key does not match the public key of CA certificate "${certificate.subject}"`,
    );
  }
  return {
    certificatePem: pems.certificatePem,
    privateKeyPem: pems.privateKeyPem,
    notAfter: certificate.notAfter,
    certificate,
    keyPair,
  };
}
