/**
 * Reading a CertificateSigningRequest the way an approver must: the PKCS#10
 * request it carries (subject, subject alternative names), its usages, and
 * whether it is decided already. Pure; shared by the kubelet-serving and the
 * node-agent approval policies.
 */
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { Pkcs10CertificateRequest, SubjectAlternativeNameExtension } from '@peculiar/x509';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';

const SUBJECT_ALT_NAME_OID = '2.5.29.17';

export interface SubjectAlternativeName {
  /** @peculiar/x509's kind: dns, ip, url, email, dn, guid, upn, id. */
  kind: string;
  value: string;
}

/** Subject alternative name kinds, as people write them. */
export const SAN_KIND_NAMES: Record<string, string> = {
  dns: 'DNS',
  ip: 'IP',
  url: 'URI',
  email: 'email',
  dn: 'directory name',
  guid: 'GUID',
  upn: 'UPN',
  id: 'registered ID',
};

/** Approved or Denied already: nothing left to decide (the apiserver refuses to change either). */
export function isDecided(csr: V1CertificateSigningRequest): boolean {
  return (csr.status?.conditions ?? []).some(
    (c) => (c.type === 'Approved' || c.type === 'Denied') && c.status !== 'False',
  );
}

/** The PKCS#10 request of spec.request, or why it cannot be read. */
export function parseRequest(base64: string | undefined): Pkcs10CertificateRequest | string {
  if (!base64) return 'spec.request is empty';
  try {
    const pem = Buffer.from(base64, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE REQUEST-----'))
      return 'spec.request is not a PEM CERTIFICATE REQUEST';
    return new Pkcs10CertificateRequest(pem);
  } catch (error) {
    return `spec.request does not parse as a PKCS#10 request (${(error as Error).message})`;
  }
}

/** The one CN of a request, if it has exactly one. */
export function requestedCommonName(request: Pkcs10CertificateRequest): string | undefined {
  const names = request.subjectName.getField('CN');
  return names.length === 1 ? names[0] : undefined;
}

export function subjectAlternativeNames(request: Pkcs10CertificateRequest): SubjectAlternativeName[] {
  return request.extensions
    .filter((extension) => extension.type === SUBJECT_ALT_NAME_OID)
    .flatMap((extension) =>
      new SubjectAlternativeNameExtension(extension.rawData).names.items.map((name) => ({
        kind: name.type,
        value: name.value,
      })),
    );
}

/**
 * Why a request's subject is not exactly CN=<commonName>, O=<organization>
 * (nothing else): empty when it is.
 */
export function subjectFailures(
  request: Pkcs10CertificateRequest,
  expected: { commonName: string | undefined; commonNamePrefix: string; organization: string },
): string[] {
  const failures: string[] = [];
  const commonNames = request.subjectName.getField('CN');
  const organizations = request.subjectName.getField('O');
  const prefix = expected.commonNamePrefix;
  if (commonNames.length !== 1 || !commonNames[0]?.startsWith(prefix))
    failures.push(`subject CN ${quoteAll(commonNames)} is not ${prefix}<name>`);
  else if (expected.commonName !== undefined && commonNames[0] !== expected.commonName)
    failures.push(`subject CN ${quote(commonNames[0])} is not ${expected.commonName} of the requester`);
  if (organizations.length !== 1 || organizations[0] !== expected.organization)
    failures.push(`subject O ${quoteAll(organizations)} is not ${expected.organization}`);
  const others = request.subjectName
    .toJSON()
    .flatMap((rdn) => Object.keys(rdn))
    .filter((type) => type !== 'CN' && type !== 'O');
  if (others.length > 0) failures.push(`subject carries ${others.join(', ')} besides CN and O`);
  return failures;
}

/** Why `usages` are not the `required` ones plus any of `optional`: empty when they are. */
export function usageFailures(
  usages: readonly string[],
  set: { name: string; required: readonly string[]; optional: readonly string[] },
): string[] {
  const given = new Set(usages);
  const allowed = new Set<string>([...set.required, ...set.optional]);
  const missing = set.required.filter((u) => !given.has(u));
  const extra = [...given].filter((u) => !allowed.has(u));
  if (missing.length === 0 && extra.length === 0) return [];
  const parts = [...missing.map((u) => `${u} missing`), ...extra.map((u) => `${u} not allowed`)];
  const optional = set.optional.length > 0 ? `, optionally ${set.optional.join(', ')}` : '';
  return [
    `usages [${usages.join(', ')}] are not the ${set.name} set (${set.required.join(', ')}${optional}): ${parts.join(', ')}`,
  ];
}

export function quote(text: string): string {
  return JSON.stringify(text);
}

export function quoteAll(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.map(quote).join(', ');
}
