/**
 * Turns the PKI table into Secrets. Material is generated once and persisted:
 * a CA is always reloaded from its Secret, and a leaf is reused while its
 * Secret still matches what the table asks for (subject, SANs, signer) and is
 * not close to expiry. Everything else is issued anew.
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
import type { KubeconfigSpec, LeafCertificateSpec, PkiSpec, SignerName } from './certificates.ts';
import { contentHash, withTemplateHash } from './template-hash.ts';

export const PKI_FINGERPRINT_ANNOTATION = 'clusters.kok.dev/pki-fingerprint';
export const NOT_AFTER_ANNOTATION = 'clusters.kok.dev/not-after';

/** Key of the admin kubeconfig in its Secret (status.kubeconfigSecretRef.key). */
export const KUBECONFIG_KEY = 'kubeconfig';

export interface PkiOptions {
  /** Validity of leaf certificates. Default 365 days (kubeadm's). */
  leafValidityDays?: number;
  /** A leaf is reissued when less than this remains. Default 30 days (HyperShift's). */
  renewBeforeDays?: number;
  /** Default: now. */
  now?: Date;
}

export interface PkiMaterial {
  /** Desired Secrets, without owner or labels (the pki component adds them). */
  secrets: V1Secret[];
  /** The earliest expiry of any certificate. */
  notAfter: Date;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString();
const dayMs = 24 * 60 * 60 * 1000;

/** The keys a Secret of each kind must hold. */
function requiredKeys(spec: PkiSpec): string[] {
  switch (spec.kind) {
    case 'ca':
      return ['tls.crt', 'tls.key'];
    case 'service-account':
      return ['sa.key', 'sa.pub'];
    case 'certificate':
      return ['tls.crt', 'tls.key', 'ca.crt'];
    case 'kubeconfig':
      return [KUBECONFIG_KEY];
  }
}

/** What a leaf is issued from: a change of any of it means a new certificate. */
export function leafFingerprint(
  spec: LeafCertificateSpec | KubeconfigSpec,
  signerCertificatePem: string,
): string {
  return contentHash({ spec, signer: contentHash(signerCertificatePem) });
}

/**
 * Whether `existing` can be kept for a leaf with `fingerprint`: it holds every
 * key, was issued from the same inputs, and does not expire within the renewal window.
 */
export function isReusable(
  existing: V1Secret | undefined,
  spec: PkiSpec,
  fingerprint: string,
  now: Date,
  renewBeforeDays: number,
): boolean {
  if (!existing) return false;
  if (!requiredKeys(spec).every((key) => existing.data?.[key])) return false;
  if (spec.kind === 'ca' || spec.kind === 'service-account') return true;
  const annotations = existing.metadata?.annotations ?? {};
  if (annotations[PKI_FINGERPRINT_ANNOTATION] !== fingerprint) return false;
  const notAfter = Date.parse(annotations[NOT_AFTER_ANNOTATION] ?? '');
  return Number.isFinite(notAfter) && notAfter - now.getTime() > renewBeforeDays * dayMs;
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
  const renewBeforeDays = options.renewBeforeDays ?? 30;
  const leafValidityDays = options.leafValidityDays ?? 365;
  const authorities = new Map<SignerName, CertificateAuthority>();
  const secrets: V1Secret[] = [];
  let notAfter: Date | undefined;
  const track = (date: Date) => {
    if (!notAfter || date < notAfter) notAfter = date;
  };
  const keep = (current: V1Secret, type: string) => {
    const annotations = { ...current.metadata?.annotations };
    delete annotations['clusters.kok.dev/template-hash'];
    const data = Object.fromEntries(Object.entries(current.data ?? {}).map(([k, v]) => [k, unb64(v) ?? '']));
    secrets.push(secret(current.metadata?.name ?? '', type, data, annotations));
  };

  for (const spec of specs) {
    const current = existing.get(spec.secretName);
    if (spec.kind === 'ca') {
      let ca: CertificateAuthority;
      if (isReusable(current, spec, '', now, renewBeforeDays) && current) {
        try {
          ca = await loadCertificateAuthority({
            certificatePem: unb64(current.data?.['tls.crt']) ?? '',
            privateKeyPem: unb64(current.data?.['tls.key']) ?? '',
          });
        } catch (error) {
          throw new Error(
            `Secret ${spec.secretName} does not hold a usable CA (${(error as Error).message}); ` +
              'restore it, or delete it to have a new CA made (every certificate of the cluster is then reissued)',
            { cause: error },
          );
        }
        keep(current, 'kubernetes.io/tls');
      } else {
        // CAs live ten years and are never rotated behind the user's back: that needs a trust-bundle rollout.
        ca = await createCertificateAuthority({ commonName: spec.commonName, now });
        secrets.push(
          secret(
            spec.secretName,
            'kubernetes.io/tls',
            { 'tls.crt': ca.certificatePem, 'tls.key': ca.privateKeyPem },
            { [NOT_AFTER_ANNOTATION]: ca.notAfter.toISOString() },
          ),
        );
      }
      authorities.set(spec.signer, ca);
      track(ca.notAfter);
      continue;
    }
    if (spec.kind === 'service-account') {
      if (isReusable(current, spec, '', now, renewBeforeDays) && current) keep(current, 'Opaque');
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
    const ca = authorities.get(spec.signer);
    if (!ca) throw new Error(`PKI table lists ${spec.secretName} before its signer ${spec.signer}`);
    const fingerprint = leafFingerprint(spec, ca.certificatePem);
    if (isReusable(current, spec, fingerprint, now, renewBeforeDays) && current) {
      keep(current, spec.kind === 'kubeconfig' ? 'Opaque' : 'kubernetes.io/tls');
      track(new Date(current.metadata?.annotations?.[NOT_AFTER_ANNOTATION] ?? 0));
      continue;
    }
    const issued = await issueCertificate(ca, {
      commonName: spec.commonName,
      organizations: spec.organizations,
      usages: spec.kind === 'kubeconfig' ? ['client'] : spec.usages,
      ...(spec.kind === 'certificate' ? { dnsNames: spec.dnsNames, ipAddresses: spec.ipAddresses } : {}),
      validityDays: leafValidityDays,
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
          { 'tls.crt': issued.certificatePem, 'tls.key': issued.privateKeyPem, 'ca.crt': ca.certificatePem },
          annotations,
        ),
      );
    } else {
      const kubeconfig = renderKubeconfig({
        clusterName: spec.clusterName,
        server: spec.server,
        certificateAuthorityPem: ca.certificatePem,
        userName: spec.commonName,
        credentials: { clientCertificatePem: issued.certificatePem, clientKeyPem: issued.privateKeyPem },
      });
      secrets.push(secret(spec.secretName, 'Opaque', { [KUBECONFIG_KEY]: kubeconfig }, annotations));
    }
  }
  return { secrets, notAfter: notAfter ?? now };
}
