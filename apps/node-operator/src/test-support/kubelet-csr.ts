// Test helpers: PKCS#10 requests and CertificateSigningRequests shaped as a kubelet with
// serverTLSBootstrap and a node agent make them.
import 'reflect-metadata';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509';
import type { JsonGeneralName } from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';

/** The kubelet's key type (ECDSA P-256), hence no key encipherment among its usages. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let keyPair: Promise<webcrypto.CryptoKeyPair> | undefined;

/** One key for every request of a test file: generating is the slow part, and the checks never look at the key. */
function keys(): Promise<webcrypto.CryptoKeyPair> {
  keyPair ??= webcrypto.subtle.generateKey(ALGORITHM, false, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>;
  return keyPair;
}

export interface ServingRequestShape {
  /** Default: CN=system:node:<node>, O=system:nodes. */
  subject?: string;
  /** Default: the node name and `ip`, when given. */
  sans?: JsonGeneralName[];
}

/** A PEM CERTIFICATE REQUEST for `node`'s serving certificate. */
export async function servingRequestPem(
  node: string,
  ip: string | undefined,
  shape: ServingRequestShape = {},
): Promise<string> {
  const sans = shape.sans ?? [
    { type: 'dns', value: node },
    ...(ip ? [{ type: 'ip' as const, value: ip }] : []),
  ];
  return requestPem(shape.subject ?? `CN=system:node:${node}, O=system:nodes`, sans);
}

/** A PEM CERTIFICATE REQUEST for `subject` (e.g. "CN=a, O=b") naming `sans`. */
export async function requestPem(subject: string, sans: JsonGeneralName[] = []): Promise<string> {
  const request = await Pkcs10CertificateRequestGenerator.create(
    {
      name: subject,
      keys: await keys(),
      signingAlgorithm: ALGORITHM,
      extensions: sans.length > 0 ? [new SubjectAlternativeNameExtension(sans)] : [],
    },
    webcrypto,
  );
  return request.toString('pem');
}

/** The CSR object a kubelet posts (spec.username and groups are filled in by the apiserver). */
export function servingCsr(name: string, pem: string): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      signerName: 'kubernetes.io/kubelet-serving',
      usages: ['digital signature', 'server auth'],
      request: Buffer.from(pem).toString('base64'),
    },
  };
}

/** The CSR object a node agent posts for `machine` (spec.username and groups are filled in by the apiserver). */
export function agentCsr(
  name: string,
  pem: string,
  labels: Record<string, string> = {},
  expirationSeconds = 86_400,
): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name, labels },
    spec: {
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['digital signature', 'client auth'],
      expirationSeconds,
      request: Buffer.from(pem).toString('base64'),
    },
  };
}
