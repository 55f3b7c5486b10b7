import type { V1Secret } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '@kok/pki';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from './cluster-spec.ts';
import {
  EXTERNAL_ETCD_SECRET_INVALID,
  EXTERNAL_ETCD_SECRET_NOT_FOUND,
  externalEtcdSecretProblem,
} from './external-etcd.ts';

const base64 = (text: string) => Buffer.from(text).toString('base64');
const secretOf = (data: Record<string, string>): V1Secret => ({
  metadata: { name: 'etcd-client', namespace: 'fleet' },
  data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])),
});

let valid: Record<string, string>;
let otherKey: string;

beforeAll(async () => {
  const ca = await createCertificateAuthority({ commonName: 'etcd-ca' });
  const client = await issueCertificate(ca, { commonName: 'kube-apiserver-etcd-client', usages: ['client'] });
  const other = await issueCertificate(ca, { commonName: 'someone-else', usages: ['client'] });
  valid = { 'ca.crt': ca.certificatePem, 'tls.crt': client.certificatePem, 'tls.key': client.privateKeyPem };
  otherKey = other.privateKeyPem;
});

describe('the Secret of an external etcd', () => {
  it('serves when it holds the CA, a client certificate and that certificate’s key', () => {
    expect(externalEtcdSecretProblem('fleet', 'etcd-client', secretOf(valid))).toBeUndefined();
  });

  it('is NotFound when it does not exist, and says what to create', () => {
    expect(externalEtcdSecretProblem('fleet', 'etcd-client', undefined)).toEqual({
      reason: EXTERNAL_ETCD_SECRET_NOT_FOUND,
      message:
        'Secret fleet/etcd-client of spec.etcd.external.tlsSecretRef does not exist: create it with ca.crt, tls.crt, tls.key (the etcd CA, and a client certificate and key etcd accepts)',
    });
  });

  it.each<[string, (data: Record<string, string>) => Record<string, string>, string]>([
    [
      'lacks a key',
      ({ 'tls.key': _, ...rest }) => rest,
      'lacks tls.key: it must hold ca.crt, tls.crt, tls.key',
    ],
    ['lacks every key', () => ({ token: 'x' }), 'lacks ca.crt, tls.crt, tls.key'],
    ['has an empty key', (d) => ({ ...d, 'ca.crt': '' }), 'lacks ca.crt'],
    [
      'has a CA that is no certificate',
      (d) => ({ ...d, 'ca.crt': 'hello' }),
      'ca.crt that is not a PEM certificate',
    ],
    [
      'has a client certificate that is no certificate',
      (d) => ({ ...d, 'tls.crt': 'x' }),
      'tls.crt that is not',
    ],
    ['has a key that is no key', (d) => ({ ...d, 'tls.key': 'x' }), 'tls.key that is not a PEM private key'],
    [
      'has the key of another certificate',
      (d) => ({ ...d, 'tls.key': otherKey }),
      'does not belong to tls.crt',
    ],
  ])('is Invalid when it %s', (_, mutate, message) => {
    const problem = externalEtcdSecretProblem('fleet', 'etcd-client', secretOf(mutate(valid)));
    expect(problem?.reason).toBe(EXTERNAL_ETCD_SECRET_INVALID);
    expect(problem?.message).toContain('Secret fleet/etcd-client of spec.etcd.external.tlsSecretRef');
    expect(problem?.message).toContain(message);
  });
});

describe('resolving spec.etcd', () => {
  const resolve = (version: string, etcd: Record<string, unknown> = {}) =>
    resolveCluster({ metadata: { name: 'prod', namespace: 'fleet' }, spec: { version, etcd } }).etcd;

  it.each([
    ['v1.36.3', {}, '3.6.16'],
    ['v1.35.0', {}, '3.6.16'],
    ['v1.37.0', {}, undefined],
    ['v1.37.0', { version: '3.7.1' }, '3.7.1'],
    ['v1.36.3', { version: '3.6.15' }, '3.6.15'],
  ])('%s with %j runs etcd %s', (version, etcd, expected) => {
    expect(resolve(version, etcd).version).toBe(expected);
  });

  it('keeps the endpoints and the Secret of an external etcd', () => {
    const etcd = resolve('v1.37.0', {
      external: { endpoints: ['https://a:2379', 'https://b:2379'], tlsSecretRef: { name: 'etcd-client' } },
    });
    expect(etcd.external).toEqual({
      endpoints: ['https://a:2379', 'https://b:2379'],
      tlsSecretName: 'etcd-client',
    });
    expect(resolve('v1.36.3').external).toBeUndefined();
  });
});
