import 'reflect-metadata';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientSigningRequest } from './certificate-signing-request.ts';

describe('createClientSigningRequest', () => {
  it.each(['ecdsa-p256', 'rsa-2048'] as const)(
    'makes a %s request for exactly the subject, signed by the key it returns',
    async (algorithm) => {
      const { requestPem, privateKeyPem } = createClientSigningRequest(
        { commonName: 'system:node-agent:host-a', organizations: ['kok:node-agents'] },
        algorithm,
      );
      const request = new Pkcs10CertificateRequest(requestPem);
      expect(request.subjectName.getField('CN')).toEqual(['system:node-agent:host-a']);
      expect(request.subjectName.getField('O')).toEqual(['kok:node-agents']);
      expect(request.extensions).toEqual([]);
      expect(await request.verify()).toBe(true);
      const publicFromPrivate = createPublicKey(createPrivateKey(privateKeyPem)).export({
        type: 'spki',
        format: 'der',
      });
      expect(Buffer.from(request.publicKey.rawData)).toEqual(publicFromPrivate);
    },
  );

  it('refuses an empty common name', () => {
    expect(() => createClientSigningRequest({ commonName: '' })).toThrow(/commonName/);
  });

  it('spells a long subject with DER long-form lengths, and several groups in order', async () => {
    const organizations = ['a'.repeat(200), 'kok:node-agents'];
    const { requestPem } = createClientSigningRequest({ commonName: 'system:node-agent:x', organizations });
    const request = new Pkcs10CertificateRequest(requestPem);
    expect(request.subjectName.getField('O')).toEqual(organizations);
    expect(await request.verify()).toBe(true);
  });
});
