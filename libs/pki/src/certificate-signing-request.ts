/**
 * A PKCS#10 certificate request (RFC 2986) for a client identity, made with
 * node:crypto alone: a host daemon asks for its own certificate once a day,
 * and should not carry a whole X.509 toolkit in memory for it. Importable on
 * its own as `@kok/pki/signing-request`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { DistinguishedName } from './distinguished-name.ts';

/** A PKCS#10 request and the private key it was made with, both PEM; the key never leaves the host. */
export interface SigningRequest {
  readonly requestPem: string;
  readonly privateKeyPem: string;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

/**
 * A new key (ECDSA P-256 by default, else RSA 2048) and a request for a
 * client certificate with exactly this subject (CN, then one O per group)
 * and no extensions: what a process puts in a CertificateSigningRequest to
 * get its own identity from the cluster's signer.
 */
export function createClientSigningRequest(
  subject: DistinguishedName,
  keyAlgorithm: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256',
): SigningRequest {
  if (!subject.commonName) throw new Error('a certificate needs a commonName');
  const { privateKey, publicKey } =
    keyAlgorithm === 'ecdsa-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const info = sequence(
    integerZero(),
    name(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    // attributes [0]: none.
    Buffer.from([0xa0, 0x00]),
  );
  const request = sequence(info, signatureAlgorithm(keyAlgorithm), bitString(signInfo(info, privateKey)));
  return {
    requestPem: pem('CERTIFICATE REQUEST', request),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function signInfo(info: Buffer, privateKey: KeyObject): Buffer {
  // ECDSA signatures come DER-encoded (r, s), as X.509 wants them; RSA ones are PKCS#1 v1.5.
  return sign('sha256', info, privateKey);
}

function name({ commonName, organizations = [] }: DistinguishedName): Buffer {
  const attribute = (oid: string, value: string) =>
    set(sequence(objectIdentifier(oid), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return sequence(
    ...organizations.map((o) => attribute(OID.organization, o)),
    attribute(OID.commonName, commonName),
  );
}

function signatureAlgorithm(keyAlgorithm: 'ecdsa-p256' | 'rsa-2048'): Buffer {
  return keyAlgorithm === 'ecdsa-p256'
    ? sequence(objectIdentifier(OID.ecdsaWithSha256))
    : sequence(objectIdentifier(OID.sha256WithRsa), Buffer.from([0x05, 0x00]));
}

// DER, as much of it as a request needs.

function tlv(tag: number, content: Buffer): Buffer {
  const length =
    content.length < 0x80
      ? Buffer.from([content.length])
      : (() => {
          const bytes: number[] = [];
          for (let n = content.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
          return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const integerZero = () => Buffer.from([0x02, 0x01, 0x00]);
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0x00]), bytes]));

function objectIdentifier(oid: string): Buffer {
  const [first = 0, second = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let n = arc >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
