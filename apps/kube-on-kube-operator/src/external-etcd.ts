/**
 * spec.etcd.external: the user's Secret that holds the apiserver's client
 * certificate for an etcd run elsewhere. Pure. It is checked before anything
 * is rendered from it, so a missing or broken Secret is a Degraded condition
 * that names what to fix, not an apiserver that crash-loops on bad files.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';

/** The keys the Secret must hold: the CA that signed etcd's serving certificate, the client certificate and its key. */
export const EXTERNAL_ETCD_SECRET_KEYS = ['ca.crt', 'tls.crt', 'tls.key'] as const;

export const EXTERNAL_ETCD_SECRET_NOT_FOUND = 'ExternalEtcdSecretNotFound';
export const EXTERNAL_ETCD_SECRET_INVALID = 'ExternalEtcdSecretInvalid';

export interface ExternalEtcdSecretProblem {
  reason: typeof EXTERNAL_ETCD_SECRET_NOT_FOUND | typeof EXTERNAL_ETCD_SECRET_INVALID;
  message: string;
}

const decoded = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

/** Why `secret` (Secret `name` of `namespace`, undefined when absent) cannot serve as the etcd client credential, or undefined when it can. */
export function externalEtcdSecretProblem(
  namespace: string,
  name: string,
  secret: V1Secret | undefined,
): ExternalEtcdSecretProblem | undefined {
  const what = `Secret ${namespace}/${name} of spec.etcd.external.tlsSecretRef`;
  const invalid = (message: string): ExternalEtcdSecretProblem => ({
    reason: EXTERNAL_ETCD_SECRET_INVALID,
    message: `${what} ${message}`,
  });
  if (!secret)
    return {
      reason: EXTERNAL_ETCD_SECRET_NOT_FOUND,
      message: `${what} does not exist: create it with ${EXTERNAL_ETCD_SECRET_KEYS.join(', ')} (the etcd CA, and a client certificate and key etcd accepts)`,
    };
  const missing = EXTERNAL_ETCD_SECRET_KEYS.filter((key) => !secret.data?.[key]);
  if (missing.length > 0)
    return invalid(
      `lacks ${missing.join(', ')}: it must hold ${EXTERNAL_ETCD_SECRET_KEYS.join(', ')} (the etcd CA, and a client certificate and key etcd accepts)`,
    );
  let certificate: X509Certificate;
  try {
    new X509Certificate(decoded(secret, 'ca.crt'));
  } catch {
    return invalid('has a ca.crt that is not a PEM certificate');
  }
  try {
    certificate = new X509Certificate(decoded(secret, 'tls.crt'));
  } catch {
    return invalid('has a tls.crt that is not a PEM certificate');
  }
  let key;
  try {
    key = createPrivateKey(decoded(secret, 'tls.key'));
  } catch {
    return invalid('has a tls.key that is not a PEM private key');
  }
  if (!certificate.checkPrivateKey(key)) return invalid('has a tls.key that does not belong to tls.crt');
  return undefined;
}
