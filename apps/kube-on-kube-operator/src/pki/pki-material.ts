/**
 * Turns the PKI table into Secrets. Material is generated once and persisted:
 * a CA is always reloaded from its Secret, and a leaf is reused while its
 * Secret still matches what the table asks for (subject, SANs, signer, trust
 * bundle) and is not due for renewal (certificate-renewal.ts). Everything else
 * is issued anew.
 *
 * A CA Secret holds the signing CA (tls.crt, tls.key) and the trust bundle
 * every consumer reads (ca.crt): the signing CA alone, or during a rotation
 * (ca-rotation.ts) the old and the new CA, plus the new CA's pair (next.crt,
 * next.key) until it signs.
 */
import type { V1Secret } from '@kubernetes/client-node';
import {
  createCertificateAuthority,
  createServiceAccountKeyPair,
  issueCertificate,
  loadCertificateAuthority,
  renderKubeconfig,
} from '@kok/pki';
import type { CertificateAuthority } from '@kok/pki';
import type { CaRotationPhase, CaRotationState } from './ca-rotation.ts';
import { CA_ROTATION_PHASES } from '@kok/api';
import { NEVER_ROTATED } from './ca-rotation.ts';
import type { KubeconfigSpec, LeafCertificateSpec, PkiSpec, SignerName } from './certificates.ts';
import { DEFAULT_LEAF_VALIDITY_MS, isRenewalDue, renewalTime, renewBeforeMs } from './certificate-renewal.ts';
import { contentHash, withTemplateHash } from '../template-hash.ts';

export const PKI_FINGERPRINT_ANNOTATION = 'clusters.kok.dev/pki-fingerprint';
export const NOT_AFTER_ANNOTATION = 'clusters.kok.dev/not-after';
/** On a CA Secret: the caRotationGeneration its material belongs to. */
export const CA_ROTATION_GENERATION_ANNOTATION = 'clusters.kok.dev/ca-rotation-generation';
/** On a CA Secret: the rotation phase its material is in (ca-rotation.ts). */
export const CA_ROTATION_PHASE_ANNOTATION = 'clusters.kok.dev/ca-rotation-phase';

/** Key of the trust bundle in CA and certificate Secrets (cert-manager's name). */
export const TRUST_BUNDLE_KEY = 'ca.crt';

/** Key of the admin kubeconfig in its Secret (status.kubeconfigSecretRef.key). */
export const KUBECONFIG_KEY = 'kubeconfig';

export interface PkiOptions {
  /** Validity of leaf certificates. Default 365 days (kubeadm's). */
  leafValiditySeconds?: number;
  /**
   * A leaf is reissued when less than this remains. Default a third of the
   * leaf validity, at most 30 days; capped at half the validity.
   */
  renewBeforeSeconds?: number;
  /**
   * The rotation state every CA Secret is brought to (ca-rotation.ts).
   * Default: each CA stays in the state it is in.
   */
  caRotation?: CaRotationState;
  /** Default: now. */
  now?: Date;
}

export interface PkiMaterial {
  /** Desired Secrets, without owner or labels (the pki component adds them). */
  secrets: V1Secret[];
  /** The earliest expiry of any certificate, leaf or CA. */
  notAfter: Date;
  /** The earliest expiry of a signing CA. */
  caNotAfter?: Date;
  /** When the next leaf is due for renewal; undefined when none can be renewed. */
  renewalTime?: Date;
  /** Leaf Secrets reissued in this pass because they were due for renewal. */
  renewed?: string[];
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString();

/** The keys a Secret of each kind must hold. */
function requiredKeys(spec: PkiSpec): string[] {
  switch (spec.kind) {
    case 'ca':
      // ca.crt and the rotation keys are added by ensurePki: Secrets made before them are read too.
      return ['tls.crt', 'tls.key'];
    case 'service-account':
      return ['sa.key', 'sa.pub'];
    case 'certificate':
      return ['tls.crt', 'tls.key', 'ca.crt'];
    case 'kubeconfig':
      return [KUBECONFIG_KEY];
  }
}

/**
 * What a leaf is issued from: a change of any of it means a new certificate.
 * The bundle counts only when it is more than the signer, so leaves made
 * before trust bundles existed keep their fingerprint.
 */
export function leafFingerprint(
  spec: LeafCertificateSpec | KubeconfigSpec,
  signerCertificatePem: string,
  trustBundlePem: string = signerCertificatePem,
): string {
  return contentHash({
    spec,
    signer: contentHash(signerCertificatePem),
    trust: trustBundlePem === signerCertificatePem ? undefined : contentHash(trustBundlePem),
  });
}

/** Whether `existing` holds every key of `spec` and, for a leaf, was issued from the inputs with `fingerprint`. */
export function isReusable(existing: V1Secret | undefined, spec: PkiSpec, fingerprint: string): boolean {
  if (!existing) return false;
  if (!requiredKeys(spec).every((key) => existing.data?.[key])) return false;
  if (spec.kind === 'ca' || spec.kind === 'service-account') return true;
  return existing.metadata?.annotations?.[PKI_FINGERPRINT_ANNOTATION] === fingerprint;
}

/** The PEM certificates in `text`, in order. */
export function splitCertificates(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => `${pem}\n`,
  );
}

/** The rotation state a CA Secret records; a Secret from before rotations existed was never rotated. */
export function caRotationStateOf(secret: V1Secret): CaRotationState {
  const annotations = secret.metadata?.annotations ?? {};
  const generation = Number(annotations[CA_ROTATION_GENERATION_ANNOTATION] ?? 0);
  const phase = CA_ROTATION_PHASES.find((p) => p === annotations[CA_ROTATION_PHASE_ANNOTATION]);
  return {
    generation: Number.isInteger(generation) && generation >= 0 ? generation : 0,
    phase: phase ?? NEVER_ROTATED.phase,
  };
}

/** A CA as its Secret holds it: the signer, the trust bundle, and the next CA during a rotation. */
interface CaMaterial {
  signer: CertificateAuthority;
  bundle: string[];
  next?: CertificateAuthority;
  state: CaRotationState;
}

/**
 * The CA material of `current` moved to the rotation state `target`. Each step
 * reads only what the Secret holds, so a CA found one step behind the others
 * (a write cut short) catches up, and a step repeated changes nothing.
 */
async function rotateCa(
  current: CaMaterial,
  target: CaRotationState,
  commonName: string,
  now: Date,
): Promise<CaMaterial> {
  if (current.state.generation === target.generation && current.state.phase === target.phase) return current;
  const phase: CaRotationPhase = target.phase;
  const { signer, next } = current;
  switch (phase) {
    case 'TrustingNewCA': {
      const incoming = next ?? (await createCertificateAuthority({ commonName, now }));
      return {
        signer,
        bundle: [signer.certificatePem, incoming.certificatePem],
        next: incoming,
        state: target,
      };
    }
    case 'ReissuingLeaves':
      // The old CA stays trusted; its key is no longer needed.
      return next
        ? { signer: next, bundle: [next.certificatePem, signer.certificatePem], state: target }
        : { ...current, state: target };
    case 'RemovingOldCA':
    case 'Completed': {
      const newest = next ?? signer;
      return { signer: newest, bundle: [newest.certificatePem], state: target };
    }
  }
}

function secret(
  name: string,
  type: string,
  data: Record<string, string>,
  annotations: Record<string, string>,
): V1Secret {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  // The template hash of a Secret is its content: rewritten only when the material changes.
  return withTemplateHash(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name, annotations }, type, data: encoded },
    contentHash({ data: encoded, annotations }),
  );
}

/** Keeps what can be kept (verbatim) and issues the rest. */
export async function ensurePki(
  specs: readonly PkiSpec[],
  existing: ReadonlyMap<string, V1Secret>,
  options: PkiOptions = {},
): Promise<PkiMaterial> {
  const now = options.now ?? new Date();
  const validityMs = (options.leafValiditySeconds ?? DEFAULT_LEAF_VALIDITY_MS / 1000) * 1000;
  const renewBefore = renewBeforeMs(
    validityMs,
    options.renewBeforeSeconds === undefined ? undefined : options.renewBeforeSeconds * 1000,
  );
  const authorities = new Map<SignerName, { ca: CertificateAuthority; bundlePem: string }>();
  const secrets: V1Secret[] = [];
  const renewed: string[] = [];
  let notAfter: Date | undefined;
  let caNotAfter: Date | undefined;
  let nextRenewal: Date | undefined;
  const earliest = (a: Date | undefined, b: Date) => (!a || b < a ? b : a);
  const keep = (current: V1Secret, type: string) => {
    const annotations = { ...current.metadata?.annotations };
    delete annotations['clusters.kok.dev/template-hash'];
    const data = Object.fromEntries(Object.entries(current.data ?? {}).map(([k, v]) => [k, unb64(v) ?? '']));
    secrets.push(secret(current.metadata?.name ?? '', type, data, annotations));
  };

  for (const spec of specs) {
    const current = existing.get(spec.secretName);
    if (spec.kind === 'ca') {
      let material: CaMaterial;
      if (isReusable(current, spec, '') && current) {
        material = await loadCa(spec.secretName, current);
      } else {
        // CAs live ten years and are rotated only when asked (spec.certificates.caRotationGeneration).
        const ca = await createCertificateAuthority({ commonName: spec.commonName, now });
        material = { signer: ca, bundle: [ca.certificatePem], state: options.caRotation ?? NEVER_ROTATED };
      }
      if (options.caRotation) material = await rotateCa(material, options.caRotation, spec.commonName, now);
      const { signer, next, state } = material;
      const bundlePem = material.bundle.join('');
      secrets.push(
        secret(
          spec.secretName,
          'kubernetes.io/tls',
          {
            'tls.crt': signer.certificatePem,
            'tls.key': signer.privateKeyPem,
            [TRUST_BUNDLE_KEY]: bundlePem,
            ...(next ? { 'next.crt': next.certificatePem, 'next.key': next.privateKeyPem } : {}),
          },
          {
            // Whole seconds, as the certificate holds it: a freshly made CA and a reloaded one read the same.
            [NOT_AFTER_ANNOTATION]: new Date(
              Math.floor(signer.notAfter.getTime() / 1000) * 1000,
            ).toISOString(),
            [CA_ROTATION_GENERATION_ANNOTATION]: String(state.generation),
            [CA_ROTATION_PHASE_ANNOTATION]: state.phase,
          },
        ),
      );
      authorities.set(spec.signer, { ca: signer, bundlePem });
      notAfter = earliest(notAfter, signer.notAfter);
      caNotAfter = earliest(caNotAfter, signer.notAfter);
      continue;
    }
    if (spec.kind === 'service-account') {
      if (isReusable(current, spec, '') && current) keep(current, 'Opaque');
      else {
        const keys = await createServiceAccountKeyPair();
        secrets.push(
          secret(
            spec.secretName,
            'Opaque',
            { 'sa.key': keys.privateKeyPem, 'sa.pub': keys.publicKeyPem },
            {},
          ),
        );
      }
      continue;
    }
    const authority = authorities.get(spec.signer);
    if (!authority) throw new Error(`PKI table lists ${spec.secretName} before its signer ${spec.signer}`);
    const { ca, bundlePem } = authority;
    const fingerprint = leafFingerprint(spec, ca.certificatePem, bundlePem);
    const storedNotAfter = new Date(current?.metadata?.annotations?.[NOT_AFTER_ANNOTATION] ?? NaN);
    const due =
      Number.isNaN(storedNotAfter.getTime()) || isRenewalDue(storedNotAfter, ca.notAfter, now, renewBefore);
    const track = (leafNotAfter: Date) => {
      notAfter = earliest(notAfter, leafNotAfter);
      if (ca.notAfter > leafNotAfter)
        nextRenewal = earliest(nextRenewal, renewalTime(leafNotAfter, renewBefore));
    };
    if (isReusable(current, spec, fingerprint) && current && !due) {
      keep(current, spec.kind === 'kubeconfig' ? 'Opaque' : 'kubernetes.io/tls');
      track(storedNotAfter);
      continue;
    }
    if (isReusable(current, spec, fingerprint)) renewed.push(spec.secretName);
    const issued = await issueCertificate(ca, {
      commonName: spec.commonName,
      organizations: spec.organizations,
      usages: spec.kind === 'kubeconfig' ? ['client'] : spec.usages,
      ...(spec.kind === 'certificate' ? { dnsNames: spec.dnsNames, ipAddresses: spec.ipAddresses } : {}),
      validityDays: validityMs / (24 * 60 * 60 * 1000),
      now,
    });
    const annotations = {
      [PKI_FINGERPRINT_ANNOTATION]: fingerprint,
      [NOT_AFTER_ANNOTATION]: issued.notAfter.toISOString(),
    };
    track(issued.notAfter);
    if (spec.kind === 'certificate') {
      secrets.push(
        secret(
          spec.secretName,
          'kubernetes.io/tls',
          {
            'tls.crt': issued.certificatePem,
            'tls.key': issued.privateKeyPem,
            [TRUST_BUNDLE_KEY]: bundlePem,
          },
          annotations,
        ),
      );
    } else {
      const kubeconfig = renderKubeconfig({
        clusterName: spec.clusterName,
        server: spec.server,
        certificateAuthorityPem: bundlePem,
        userName: spec.commonName,
        credentials: { clientCertificatePem: issued.certificatePem, clientKeyPem: issued.privateKeyPem },
      });
      secrets.push(secret(spec.secretName, 'Opaque', { [KUBECONFIG_KEY]: kubeconfig }, annotations));
    }
  }
  return {
    secrets,
    notAfter: notAfter ?? now,
    caNotAfter: caNotAfter ?? now,
    ...(nextRenewal ? { renewalTime: nextRenewal } : {}),
    renewed,
  };
}

/**
 * CA material by the Secret object it was read from. Parsing a CA and importing its key cost a few ms,
 * and every pass over every Cluster reads its CAs: with 100 Clusters that was a fifth of the operator's
 * CPU. Informer objects are replaced on every change, so an entry never outlives its content.
 */
const loadedCas = new WeakMap<V1Secret, Promise<CaMaterial>>();

/** The CA material a Secret holds; throws saying what to do when it is unusable. */
function loadCa(secretName: string, current: V1Secret): Promise<CaMaterial> {
  let loaded = loadedCas.get(current);
  if (!loaded) {
    loaded = parseCa(secretName, current);
    loadedCas.set(current, loaded);
    // A failure is not kept: the next pass reads the Secret again.
    loaded.catch(() => loadedCas.delete(current));
  }
  return loaded;
}

async function parseCa(secretName: string, current: V1Secret): Promise<CaMaterial> {
  const text = (key: string) => unb64(current.data?.[key]);
  try {
    const signer = await loadCertificateAuthority({
      certificatePem: text('tls.crt') ?? '',
      privateKeyPem: text('tls.key') ?? '',
    });
    const nextCrt = text('next.crt');
    const nextKey = text('next.key');
    const next =
      nextCrt && nextKey
        ? await loadCertificateAuthority({ certificatePem: nextCrt, privateKeyPem: nextKey })
        : undefined;
    const bundle = splitCertificates(text(TRUST_BUNDLE_KEY) ?? '');
    return {
      signer,
      bundle: bundle.length > 0 ? bundle : [signer.certificatePem],
      ...(next ? { next } : {}),
      state: caRotationStateOf(current),
    };
  } catch (error) {
    throw new Error(
      `Secret ${secretName} does not hold a usable CA (${(error as Error).message}); ` +
        'restore it, or delete it to have a new CA made (every certificate of the cluster is then reissued)',
      { cause: error },
    );
  }
}
