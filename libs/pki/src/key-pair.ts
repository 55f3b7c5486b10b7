import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import { webcrypto } from './crypto-provider.ts';

type CryptoKeyPair = WebCrypto.CryptoKeyPair;

/**
 * Key algorithms Kubernetes accepts for serving, client and service-account keys.
 * ECDSA P-256 is the default: keys are generated in microseconds, where RSA
 * takes tens of milliseconds — it matters when a meta-cluster renders the PKI of
 * a hundred clusters.
 */
export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048';

/** A key pair in PEM form (PKCS#8 private key, SPKI public key) plus the WebCrypto handles. */
export interface KeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly cryptoKeys: CryptoKeyPair;
}

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

export function signingAlgorithmFor(algorithm: KeyAlgorithm): WebCrypto.Algorithm | WebCrypto.EcdsaParams {
  return algorithm === 'ecdsa-p256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

export async function generateKeyPair(algorithm: KeyAlgorithm = 'ecdsa-p256'): Promise<KeyPair> {
  const params = algorithm === 'ecdsa-p256' ? ecdsa : rsa;
  const cryptoKeys = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  return toKeyPair(algorithm, cryptoKeys);
}

/** Loads a PEM private key (PKCS#8, PKCS#1 or SEC1), e.g. a CA key read back from a Secret. */
export async function importKeyPair(privateKeyPem: string): Promise<KeyPair> {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const algorithm = algorithmOf(privateKey.asymmetricKeyType, privateKey.asymmetricKeyDetails?.namedCurve);
  const params = algorithm === 'ecdsa-p256' ? ecdsa : rsa;
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const cryptoKeys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  } as CryptoKeyPair;
  return toKeyPair(algorithm, cryptoKeys);
}

function algorithmOf(type: string | undefined, curve: string | undefined): KeyAlgorithm {
  if (type === 'ec' && curve === 'prime256v1') return 'ecdsa-p256';
  if (type === 'rsa') return 'rsa-2048';
  throw new Error(
    `unsupported private key: type ${type ?? 'unknown'}${curve ? ` curve ${curve}` : ''}; use ECDSA P-256 or RSA`,
  );
}

async function toKeyPair(algorithm: KeyAlgorithm, cryptoKeys: CryptoKeyPair): Promise<KeyPair> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', cryptoKeys.privateKey);
  const spki = await webcrypto.subtle.exportKey('spki', cryptoKeys.publicKey);
  return {
    algorithm,
    privateKeyPem: pem('PRIVATE KEY', pkcs8),
    publicKeyPem: pem('PUBLIC KEY', spki),
    cryptoKeys,
  };
}

export function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
