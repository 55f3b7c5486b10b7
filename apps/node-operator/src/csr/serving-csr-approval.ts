/**
 * Whether a kubelet serving certificate request may be approved: pure, from the
 * CertificateSigningRequest and the Machine it names. Kubernetes approves no
 * kubelet-serving CSR by itself; this is the check a kubelet with
 * `serverTLSBootstrap: true` waits for. A certificate is approved only for the
 * names the Machine says the host has.
 */
import { isIP, isIPv6 } from 'node:net';
import type { Pkcs10CertificateRequest } from '@peculiar/x509';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { CsrApprovalPolicy } from './csr-approval-reconciler.ts';
import type { CsrDecision, DecisionOptions } from './csr-decision.ts';
import {
  isDecided,
  parseRequest,
  quote,
  SAN_KIND_NAMES,
  subjectAlternativeNames,
  subjectFailures,
  usageFailures,
} from './csr-request.ts';
import type { MachineObject } from '@kok/api';

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
const SERVING_USAGES = {
  name: 'kubelet serving',
  required: ['digital signature', 'server auth'],
  optional: ['key encipherment'],
} as const;

/** The node a CSR was requested by (`system:node:<name>` in spec.username), if any. */
export function servingCsrNodeName(csr: V1CertificateSigningRequest): string | undefined {
  const username = csr.spec.username ?? '';
  if (!username.startsWith(NODE_USER_PREFIX)) return undefined;
  return username.slice(NODE_USER_PREFIX.length) || undefined;
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
): CsrDecision {
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

  failures.push(...usageFailures(csr.spec.usages ?? [], SERVING_USAGES));

  const request = parseRequest(csr.spec.request);
  if (typeof request === 'string') failures.push(request);
  else {
    failures.push(
      ...subjectFailures(request, {
        commonName: node === undefined ? undefined : `${NODE_USER_PREFIX}${node}`,
        commonNamePrefix: NODE_USER_PREFIX,
        organization: NODES_GROUP,
      }),
    );
    // Without a Machine (or a node name) there is no address to hold the names against; that is said above.
    if (node !== undefined && machine) failures.push(...sanFailures(request, node, machine));
    else if (subjectAlternativeNames(request).length === 0)
      failures.push('it names no DNS or IP subject alternative name');
  }

  if (failures.length === 0 && node !== undefined && machine && typeof request !== 'string') {
    const names = subjectAlternativeNames(request).map((san) => san.value);
    return {
      verdict: 'approve',
      machine: node,
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
    machine: node,
    message: `serving certificate for ${subject} refused: ${failures.join('; ')}`,
  };
}

function sanFailures(request: Pkcs10CertificateRequest, node: string, machine: MachineObject): string[] {
  const names = subjectAlternativeNames(request);
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

/** Kubelet serving certificates, for the Machine named like the node that asks. */
export const servingCsrPolicy: CsrApprovalPolicy = {
  signer: KUBELET_SERVING_SIGNER,
  machineOf: servingCsrNodeName,
  decide: decideServingCsr,
  approvedReason: APPROVED_REASON,
  deniedReason: DENIED_REASON,
  deniedAction: 'DenyServingCertificate',
};
