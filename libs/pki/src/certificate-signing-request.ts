import { x509 } from './crypto-provider.ts';
import { formatName, type DistinguishedName } from './distinguished-name.ts';
import { generateKeyPair, signingAlgorithmFor, type KeyAlgorithm } from './key-pair.ts';

/** A PKCS#10 request and the private key it was made with, both PEM; the key never leaves the host. */
export interface SigningRequest {
  readonly requestPem: string;
  readonly privateKeyPem: string;
}

/**
 * A new key and a PKCS#10 request for a client certificate with this subject
 * and no subject alternative names: what a process puts in a
 * CertificateSigningRequest to get its own identity from the cluster's signer.
 */
export async function createClientSigningRequest(
  subject: DistinguishedName,
  keyAlgorithm: KeyAlgorithm = 'ecdsa-p256',
): Promise<SigningRequest> {
  const keyPair = await generateKeyPair(keyAlgorithm);
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: formatName(subject),
    keys: keyPair.cryptoKeys,
    signingAlgorithm:
      keyAlgorithm === 'ecdsa-p256'
        ? signingAlgorithmFor(keyAlgorithm)
        : { ...signingAlgorithmFor(keyAlgorithm), hash: 'SHA-256' },
  });
  return { requestPem: request.toString('pem'), privateKeyPem: keyPair.privateKeyPem };
}
