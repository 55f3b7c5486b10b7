/**
 * Guards the long-lived keys of a Cluster: its three CAs and the
 * service-account key. A new CA or key invalidates every kubelet, kubeconfig
 * and service-account token of the biz-cluster, so one is made only for a
 * Cluster whose status records none yet, or when the user asks with the
 * regenerate-pki annotation. A Secret controlled by anything but this Cluster
 * is never adopted nor overwritten. The decision is pure; fingerprintsOf parses.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { Annotations } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import { controllerOf } from '@kok/reconcile';
import type { PkiSpec, SignerName } from './certificates.ts';

export type PkiFingerprints = NonNullable<ClusterStatus['pki']>;

export const PKI_MISSING = 'PKIMissing';
export const SECRET_NOT_OWNED = 'SecretNotOwned';

export type PkiGuard =
  | {
      kind: 'proceed';
      /** The Secrets that may be reused, by name: only those this Cluster controls. */
      existing: Map<string, V1Secret>;
      /** The regenerate-pki annotation has nothing left to do: remove it. */
      removeRegenerateAnnotation: boolean;
    }
  | { kind: 'blocked'; reason: typeof PKI_MISSING | typeof SECRET_NOT_OWNED; message: string };

export interface PkiGuardInputs {
  specs: readonly PkiSpec[];
  /** The Secret of each name that exists, whoever controls it. */
  found: ReadonlyMap<string, V1Secret>;
  clusterUid: string;
  recorded: ClusterStatus['pki'];
  /** The Cluster carries the regenerate-pki annotation. */
  regenerateRequested: boolean;
}

/** Whether a spec's Secret holds a key the biz-cluster's nodes and clients depend on. */
export const isLongLived = (spec: PkiSpec): boolean => spec.kind === 'ca' || spec.kind === 'service-account';

const plural = (names: readonly string[], one: string, many: string) =>
  `${names.length === 1 ? 'Secret' : 'Secrets'} ${names.join(', ')} ${names.length === 1 ? one : many}`;

export function guardPki(inputs: PkiGuardInputs): PkiGuard {
  const { specs, found, clusterUid, recorded, regenerateRequested } = inputs;
  const foreign = specs
    .map((spec) => spec.secretName)
    .filter((name) => {
      const secret = found.get(name);
      return secret !== undefined && controllerOf(secret)?.uid !== clusterUid;
    });
  if (foreign.length > 0)
    return {
      kind: 'blocked',
      reason: SECRET_NOT_OWNED,
      message:
        `${plural(foreign, 'exists but is', 'exist but are')} not controlled by this Cluster (uid ${clusterUid}): ` +
        'the operator neither adopts nor overwrites them and makes no PKI until they are deleted or renamed ' +
        '(or, if they are this Cluster’s own, their controller ownerReference names it)',
    };
  const missing = specs.filter((spec) => isLongLived(spec) && !found.has(spec.secretName));
  const hadPki = Object.values(recorded ?? {}).some(Boolean);
  if (missing.length > 0 && hadPki && !regenerateRequested)
    return {
      kind: 'blocked',
      reason: PKI_MISSING,
      message:
        `${plural(
          missing.map((s) => s.secretName),
          'is',
          'are',
        )} missing, yet status.pki records that this Cluster had them. ` +
        'New ones would invalidate every kubelet, kubeconfig and service-account token of the cluster, so none is made. ' +
        'Restore them (status.pki holds their SHA-256 fingerprints), or set the annotation ' +
        `${Annotations.regeneratePki} on the Cluster to have new ones made`,
    };
  return {
    kind: 'proceed',
    existing: new Map(found),
    removeRegenerateAnnotation: regenerateRequested && missing.length === 0,
  };
}

/** The Cluster asks for missing CA and service-account key Secrets to be made anew. */
export const regeneratePkiRequested = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.[Annotations.regeneratePki] !== undefined;

const FINGERPRINT_FIELDS: Record<SignerName, keyof PkiFingerprints> = {
  ca: 'caSHA256',
  frontProxyCA: 'frontProxyCASHA256',
  etcdCA: 'etcdCASHA256',
};

const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');
const decoded = (secret: V1Secret, key: string) => {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
};

/**
 * Fingerprints by Secret object (a CA's or a service-account key's, never both): informer
 * objects are replaced on change, so an entry never outlives its content.
 */
const parsed = new WeakMap<V1Secret, string | undefined>();

function fingerprintOf(secret: V1Secret, key: 'tls.crt' | 'sa.pub'): string | undefined {
  if (parsed.has(secret)) return parsed.get(secret);
  let digest: string | undefined;
  try {
    const pem = decoded(secret, key);
    if (pem)
      digest =
        key === 'tls.crt'
          ? sha256(new X509Certificate(pem).raw)
          : sha256(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
  } catch {
    // Unparseable material has no fingerprint; loading it fails loudly elsewhere.
    digest = undefined;
  }
  parsed.set(secret, digest);
  return digest;
}

/** status.pki: what was recorded, updated with the fingerprints of the long-lived Secrets that exist. */
export function nextPkiFingerprints(
  recorded: ClusterStatus['pki'],
  specs: readonly PkiSpec[],
  existing: ReadonlyMap<string, V1Secret>,
): PkiFingerprints | undefined {
  const next: PkiFingerprints = { ...recorded };
  for (const spec of specs) {
    const secret = existing.get(spec.secretName);
    if (!secret) continue;
    if (spec.kind === 'ca') {
      const digest = fingerprintOf(secret, 'tls.crt');
      if (digest) next[FINGERPRINT_FIELDS[spec.signer]] = digest;
    } else if (spec.kind === 'service-account') {
      const digest = fingerprintOf(secret, 'sa.pub');
      if (digest) next.serviceAccountKeySHA256 = digest;
    }
  }
  return Object.keys(next).length > 0 ? next : undefined;
}
