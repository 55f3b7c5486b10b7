/**
 * Guards the long-lived keys of a Cluster: its three CAs and the
 * service-account key. A new CA or key invalidates every kubelet, kubeconfig
 * and service-account token of the biz-cluster, so one is made only for a
 * Cluster whose status records none yet, or when the user asks with the
 * regenerate-pki annotation. A Secret controlled by anything but this Cluster
 * is never adopted nor overwritten; one controlled by nothing is adopted when it
 * carries this Cluster's labels (a restore from a backup) and, for a CA or key
 * that status.pki records, holds the recorded one. The decision is pure;
 * fingerprintOf parses.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { Annotations, Labels } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import { controllerOf } from '@kok/reconcile';
import type { PkiSpec, SignerName } from './certificates.ts';
import { OPERATOR_NAME } from '../names.ts';

export type PkiFingerprints = NonNullable<ClusterStatus['pki']>;

export const PKI_MISSING = 'PKIMissing';
export const SECRET_NOT_OWNED = 'SecretNotOwned';
export const PKI_MISMATCH = 'PKIMismatch';

export type PkiGuard =
  | {
      kind: 'proceed';
      /** The Secrets that may be reused, by name: only those this Cluster controls. */
      existing: Map<string, V1Secret>;
      /** The regenerate-pki annotation has nothing left to do: remove it. */
      removeRegenerateAnnotation: boolean;
      /** Secrets controlled by nothing but labelled for this Cluster: to be made its own before anything else. */
      adopt: string[];
    }
  | {
      kind: 'blocked';
      reason: typeof PKI_MISSING | typeof SECRET_NOT_OWNED | typeof PKI_MISMATCH;
      message: string;
    };

export interface PkiGuardInputs {
  specs: readonly PkiSpec[];
  /** The Secret of each name that exists, whoever controls it. */
  found: ReadonlyMap<string, V1Secret>;
  clusterUid: string;
  clusterName: string;
  recorded: ClusterStatus['pki'];
  /** The Cluster carries the regenerate-pki annotation. */
  regenerateRequested: boolean;
}

/** Whether a spec's Secret holds a key the biz-cluster's nodes and clients depend on. */
export const isLongLived = (spec: PkiSpec): boolean => spec.kind === 'ca' || spec.kind === 'service-account';

const plural = (names: readonly string[], one: string, many: string) =>
  `${names.length === 1 ? 'Secret' : 'Secrets'} ${names.join(', ')} ${names.length === 1 ? one : many}`;

/**
 * A Secret no object controls that carries the labels the operator puts on a
 * Cluster's Secrets: what a restore from a backup creates (ownerReferences
 * cannot survive one, the Cluster's uid is new), so it is this Cluster's to adopt.
 */
export function isAdoptableSecret(secret: V1Secret, clusterName: string): boolean {
  const labels = secret.metadata?.labels ?? {};
  return (
    controllerOf(secret) === undefined &&
    labels[Labels.cluster] === clusterName &&
    labels[Labels.managedBy] === OPERATOR_NAME
  );
}

export function guardPki(inputs: PkiGuardInputs): PkiGuard {
  const { specs, found, clusterUid, clusterName, recorded, regenerateRequested } = inputs;
  const adoptable = specs.filter((spec) => {
    const secret = found.get(spec.secretName);
    return secret !== undefined && isAdoptableSecret(secret, clusterName);
  });
  const foreign = specs
    .map((spec) => spec.secretName)
    .filter((name) => {
      const secret = found.get(name);
      return (
        secret !== undefined &&
        controllerOf(secret)?.uid !== clusterUid &&
        !adoptable.some((spec) => spec.secretName === name)
      );
    });
  if (foreign.length > 0)
    return {
      kind: 'blocked',
      reason: SECRET_NOT_OWNED,
      message:
        `${plural(foreign, 'exists but is', 'exist but are')} not controlled by this Cluster (uid ${clusterUid}): ` +
        'the operator neither adopts nor overwrites them and makes no PKI until they are deleted or renamed ' +
        '(or, if they are this Cluster’s own, their controller ownerReference names it, or they have none and ' +
        `carry the labels ${Labels.cluster}=${clusterName} and ${Labels.managedBy}=${OPERATOR_NAME})`,
    };
  // A restored CA or key must be the one the cluster's credentials chain to, as far as status.pki knows.
  const mismatched = adoptable.flatMap((spec) => {
    const secret = found.get(spec.secretName);
    const [field, digest] = (secret && recordedFingerprintOf(spec, secret)) ?? [];
    const expected = field && recorded?.[field];
    return expected && digest !== expected ? [{ name: spec.secretName, field, digest, expected }] : [];
  });
  if (mismatched.length > 0)
    return {
      kind: 'blocked',
      reason: PKI_MISMATCH,
      message:
        `${plural(
          mismatched.map((m) => m.name),
          'has',
          'have',
        )} no controller and would be adopted, but ` +
        mismatched
          .map(
            (m) =>
              `${m.name} holds SHA-256 ${m.digest ?? 'none'} where status.pki.${m.field} records ${m.expected}`,
          )
          .join('; ') +
        ': adopting a different CA or key would invalidate every credential of the cluster, so none is. ' +
        'Restore the Secrets of a backup taken after the last CA rotation, or delete these and set the annotation ' +
        `${Annotations.regeneratePki} on the Cluster to have new ones made`,
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
    adopt: adoptable.map((spec) => spec.secretName),
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

/** The status.pki field of a CA's or service-account key's Secret and the fingerprint it holds (undefined if unparseable). */
function recordedFingerprintOf(
  spec: PkiSpec,
  secret: V1Secret,
): [keyof PkiFingerprints, string | undefined] | undefined {
  if (spec.kind === 'ca') return [FINGERPRINT_FIELDS[spec.signer], fingerprintOf(secret, 'tls.crt')];
  if (spec.kind === 'service-account') return ['serviceAccountKeySHA256', fingerprintOf(secret, 'sa.pub')];
  return undefined;
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
    const [field, digest] = (secret && recordedFingerprintOf(spec, secret)) ?? [];
    if (field && digest) next[field] = digest;
  }
  return Object.keys(next).length > 0 ? next : undefined;
}
