/**
 * Whether a kubelet serving certificate request may be approved: pure, from the
 * CertificateSigningRequest and the Machine it names. Kubernetes approves no
 * kubelet-serving CSR by itself; this is the check a kubelet with
 * `serverTLSBootstrap: true` waits for. A certificate is approved only for the
 * names the Machine says the host has.
 */
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { Pkcs10CertificateRequest, SubjectAlternativeNameExtension } from '@peculiar/x509';
import { isIP, isIPv6 } from 'node:net';
import type { Machine } from '@kok/api';
import type { KubernetesObject, V1CertificateSigningRequest } from '@kubernetes/client-node';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

/** Condition reasons written on the CSR. */
export const APPROVED_REASON = 'KokMachineMatched';
export const DENIED_REASON = 'KokMachineMismatch';

/**
 * What the kubelet asks for (client-go's certificate manager): digital signature
 * and server auth, plus key encipherment when its key is RSA.
 */
const REQUIRED_USAGES = ['digital signature', 'server auth'] as const;
const OPTIONAL_USAGES = ['key encipherment'] as const;

/** Subject alternative names of the X.509 GeneralName kinds, as @peculiar/x509 spells them. */
const SAN_KIND_NAMES: Record<string, string> = {
  dns: 'DNS',
  ip: 'IP',
  url: 'URI',
  email: 'email',
  dn: 'directory name',
  guid: 'GUID',
  upn: 'UPN',
  id: 'registered ID',
};

const SUBJECT_ALT_NAME_OID = '2.5.29.17';

type MachineObject = Machine & KubernetesObject;

export type ServingCsrDecision =
  | { verdict: 'approve'; node: string; message: string }
  | { verdict: 'deny'; node: string | undefined; message: string }
  | { verdict: 'ignore'; message: string };

export interface DecisionOptions {
  /**
   * The caller sees only some Machines (the operator runs with a label
   * selector): a CSR whose Machine it does not see may belong to another
   * operator, so it is left alone instead of denied.
   */
  partialMachineView?: boolean;
}

/** The node a CSR was requested by (`system:node:<name>` in spec.username), if any. */
export function servingCsrNodeName(csr: V1CertificateSigningRequest): string | undefined {
  const username = csr.spec.username ?? '';
  if (!username.startsWith(NODE_USER_PREFIX)) return undefined;
  return username.slice(NODE_USER_PREFIX.length) || undefined;
}

/** Approved or Denied already: nothing left to decide (the apiserver refuses to change either). */
export function isDecided(csr: V1CertificateSigningRequest): boolean {
  return (csr.status?.conditions ?? []).some(
    (c) => (c.type === 'Approved' || c.type === 'Denied') && c.status !== 'False',
  );
}

/**
 * Approve only when every check holds: signer kubelet-serving; requested by
 * `system:node:<n>` in group system:nodes; subject exactly CN=system:node:<n>,
 * O=system:nodes; a Machine <n> that is not being deleted; at least one SAN,
 * every IP SAN the Machine's spec.address and every DNS SAN <n> or the
 * Machine's spec.address, nothing else; usages the kubelet serving set.
 * Other signers and decided CSRs are ignored. A kubelet-serving CSR that fails
 * is denied, the message naming every check that failed.
 */
export function decideServingCsr(
  csr: V1CertificateSigningRequest,
  machine: MachineObject | undefined,
  options: DecisionOptions = {},
): ServingCsrDecision {
  const name = csr.metadata?.name ?? '';
  if (csr.spec.signerName !== KUBELET_SERVING_SIGNER)
    return {
      verdict: 'ignore',
      message: `CSR ${name}: signer ${csr.spec.signerName} is not ours to approve`,
    };
  if (isDecided(csr)) return { verdict: 'ignore', message: `CSR ${name} is already approved or denied` };

  const node = servingCsrNodeName(csr);
  if (!machine && options.partialMachineView)
    return {
      verdict: 'ignore',
      message: `CSR ${name}: no Machine ${node ?? '(not a node)'} among the Machines this operator manages`,
    };

  const failures: string[] = [];
  const username = csr.spec.username ?? '';
  if (node === undefined)
    failures.push(`requested by ${quote(username)}, not by a node (${NODE_USER_PREFIX}<name>)`);
  if (!(csr.spec.groups ?? []).includes(NODES_GROUP))
    failures.push(`the requester is not in group ${NODES_GROUP}`);

  if (node !== undefined) {
    if (!machine) failures.push(`no Machine ${node}`);
    else if (machine.metadata?.deletionTimestamp) failures.push(`Machine ${node} is being deleted`);
  }

  failures.push(...usageFailures(csr.spec.usages ?? []));

  const request = parseRequest(csr.spec.request);
  if (typeof request === 'string') failures.push(request);
  else {
    failures.push(...subjectFailures(request, node));
    // Without a Machine (or a node name) there is no address to hold the names against; that is said above.
    if (node !== undefined && machine) failures.push(...sanFailures(request, node, machine));
    else if (sans(request).length === 0) failures.push('it names no DNS or IP subject alternative name');
  }

  if (failures.length === 0 && node !== undefined && machine && typeof request !== 'string') {
    const names = sans(request).map((san) => san.value);
    return {
      verdict: 'approve',
      node,
      message: `serving certificate for Machine ${node} approved: requested by ${username}, names ${names.join(', ')} are the node name or spec.address ${machine.spec.address ?? '(unset)'}`,
    };
  }
  const subject =
    machine && node !== undefined
      ? `Machine ${node}`
      : node !== undefined
        ? `node ${node}`
        : `requester ${quote(username)}`;
  return {
    verdict: 'deny',
    node,
    message: `serving certificate for ${subject} refused: ${failures.join('; ')}`,
  };
}

function parseRequest(base64: string | undefined): Pkcs10CertificateRequest | string {
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

function usageFailures(usages: readonly string[]): string[] {
  const given = new Set(usages);
  const allowed = new Set<string>([...REQUIRED_USAGES, ...OPTIONAL_USAGES]);
  const missing = REQUIRED_USAGES.filter((u) => !given.has(u));
  const extra = [...given].filter((u) => !allowed.has(u));
  if (missing.length === 0 && extra.length === 0) return [];
  const parts = [...missing.map((u) => `${u} missing`), ...extra.map((u) => `${u} not allowed`)];
  return [
    `usages [${usages.join(', ')}] are not the kubelet serving set (digital signature, server auth, optionally key encipherment): ${parts.join(', ')}`,
  ];
}

function subjectFailures(request: Pkcs10CertificateRequest, node: string | undefined): string[] {
  const failures: string[] = [];
  const commonNames = request.subjectName.getField('CN');
  const organizations = request.subjectName.getField('O');
  const expectedCn = node === undefined ? undefined : `${NODE_USER_PREFIX}${node}`;
  if (commonNames.length !== 1 || !commonNames[0]?.startsWith(NODE_USER_PREFIX))
    failures.push(`subject CN ${quoteAll(commonNames)} is not ${NODE_USER_PREFIX}<name>`);
  else if (expectedCn !== undefined && commonNames[0] !== expectedCn)
    failures.push(`subject CN ${quote(commonNames[0])} is not ${expectedCn} of the requester`);
  if (organizations.length !== 1 || organizations[0] !== NODES_GROUP)
    failures.push(`subject O ${quoteAll(organizations)} is not ${NODES_GROUP}`);
  const others = request.subjectName
    .toJSON()
    .flatMap((rdn) => Object.keys(rdn))
    .filter((type) => type !== 'CN' && type !== 'O');
  if (others.length > 0) failures.push(`subject carries ${others.join(', ')} besides CN and O`);
  return failures;
}

interface San {
  kind: string;
  value: string;
}

function sans(request: Pkcs10CertificateRequest): San[] {
  return request.extensions
    .filter((extension) => extension.type === SUBJECT_ALT_NAME_OID)
    .flatMap((extension) =>
      new SubjectAlternativeNameExtension(extension.rawData).names.items.map((name) => ({
        kind: name.type,
        value: name.value,
      })),
    );
}

function sanFailures(request: Pkcs10CertificateRequest, node: string, machine: MachineObject): string[] {
  const names = sans(request);
  if (names.length === 0) return ['it names no DNS or IP subject alternative name'];
  const address = machine.spec.address;
  const addressIp = address !== undefined && isIP(address) ? canonicalIp(address) : undefined;
  const addressDns = address !== undefined && addressIp === undefined ? address.toLowerCase() : undefined;
  const failures: string[] = [];
  for (const san of names) {
    if (san.kind === 'ip') {
      const ip = canonicalIp(san.value);
      if (addressIp === undefined)
        failures.push(
          `IP SAN ${san.value}: Machine ${node} has no IP address (spec.address ${address ?? 'unset'})`,
        );
      else if (ip !== addressIp)
        failures.push(`IP SAN ${san.value} is not Machine ${node}'s spec.address ${address ?? ''}`);
    } else if (san.kind === 'dns') {
      const dns = san.value.toLowerCase();
      if (dns !== node.toLowerCase() && dns !== addressDns)
        failures.push(
          `DNS SAN ${san.value} is neither the node name ${node} nor Machine ${node}'s spec.address${addressDns ? ` ${address ?? ''}` : ' (not a DNS name)'}`,
        );
    } else failures.push(`${SAN_KIND_NAMES[san.kind] ?? san.kind} SAN ${san.value} is not allowed`);
  }
  return failures;
}

/** One spelling per address: IPv6 compressed and lower-case, IPv4 as is. */
function canonicalIp(text: string): string | undefined {
  if (isIPv6(text)) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return isIP(text) ? text : undefined;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function quoteAll(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.map(quote).join(', ');
}
