/**
 * Whether a node agent's client certificate request may be approved: pure,
 * from the CertificateSigningRequest and the Machine it names. An agent asks
 * for `system:node-agent:<machine>` in group kok:node-agents from the
 * kube-apiserver-client signer, first with the host's bootstrap token, later
 * with its own certificate to renew it. Nobody else approves these: the
 * controller-manager approves only kubelet client certificates.
 */
import {
  machineOfNodeAgent,
  NODE_AGENT_GROUP,
  NODE_AGENT_MAX_CERTIFICATE_SECONDS,
  NODE_AGENT_SIGNER,
  NODE_AGENT_USER_PREFIX,
  nodeAgentUser,
} from '@kok/api';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { Pkcs10CertificateRequest } from '@peculiar/x509';
import type { CsrApprovalPolicy } from './csr-approval-reconciler.ts';
import type { CsrDecision, DecisionOptions } from './csr-decision.ts';
import {
  isDecided,
  parseRequest,
  quote,
  requestedCommonName,
  SAN_KIND_NAMES,
  subjectAlternativeNames,
  subjectFailures,
  usageFailures,
} from './csr-request.ts';
import type { MachineObject } from '@kok/api';

/** Who may ask for an agent's first certificate: anyone holding a bootstrap token. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** Condition reasons written on the CSR. */
export const AGENT_APPROVED_REASON = 'KokNodeAgentMachineMatched';
export const AGENT_DENIED_REASON = 'KokNodeAgentRefused';

const CLIENT_USAGES = {
  name: 'client',
  required: ['digital signature', 'client auth'],
  optional: ['key encipherment'],
} as const;

/**
 * The Machine a CSR asks an agent identity for (the request's CN is
 * system:node-agent:<machine>); undefined for every other CSR, which belongs
 * to someone else's approver.
 */
export function agentCsrMachineName(csr: V1CertificateSigningRequest): string | undefined {
  return agentRequest(csr)?.machine;
}

/** The parsed request of an agent identity CSR and the Machine it names. */
function agentRequest(
  csr: V1CertificateSigningRequest,
): { request: Pkcs10CertificateRequest; machine: string } | undefined {
  if (csr.spec.signerName !== NODE_AGENT_SIGNER) return undefined;
  const request = parseRequest(csr.spec.request);
  if (typeof request === 'string') return undefined;
  const commonName = requestedCommonName(request);
  const machine = commonName === undefined ? undefined : machineOfNodeAgent(commonName);
  return machine === undefined ? undefined : { request, machine };
}

/**
 * Approve only when every check holds: signer kube-apiserver-client; subject
 * exactly CN=system:node-agent:<m>, O=kok:node-agents; no subject alternative
 * name; client usages; spec.expirationSeconds set and at most
 * NODE_AGENT_MAX_CERTIFICATE_SECONDS; requested by a bootstrap token holder
 * (system:bootstrappers) or by system:node-agent:<m> itself (renewal); a
 * Machine <m> that is not being deleted. A CSR of that signer whose CN is not
 * an agent's is ignored; one that is but fails a check is denied, the message
 * naming every failed check.
 */
export function decideAgentCsr(
  csr: V1CertificateSigningRequest,
  machine: MachineObject | undefined,
  options: DecisionOptions = {},
): CsrDecision {
  const name = csr.metadata?.name ?? '';
  const asked = agentRequest(csr);
  if (asked === undefined)
    return { verdict: 'ignore', message: `CSR ${name} asks for no node-agent identity` };
  const { request, machine: machineName } = asked;
  if (isDecided(csr)) return { verdict: 'ignore', message: `CSR ${name} is already approved or denied` };
  if (!machine && options.partialMachineView)
    return {
      verdict: 'ignore',
      message: `CSR ${name}: no Machine ${machineName} among the Machines this operator manages`,
    };

  const failures: string[] = [];
  const username = csr.spec.username ?? '';
  const renewal = username === nodeAgentUser(machineName);
  const bootstrap = (csr.spec.groups ?? []).includes(BOOTSTRAPPERS_GROUP);
  if (!renewal && !bootstrap)
    failures.push(
      `requested by ${quote(username)}, neither a bootstrap token (${BOOTSTRAPPERS_GROUP}) nor ${nodeAgentUser(machineName)} itself`,
    );
  if (!machine) failures.push(`no Machine ${machineName}`);
  else if (machine.metadata?.deletionTimestamp) failures.push(`Machine ${machineName} is being deleted`);

  failures.push(...usageFailures(csr.spec.usages ?? [], CLIENT_USAGES));
  const expiration = csr.spec.expirationSeconds;
  if (expiration === undefined)
    failures.push(
      `spec.expirationSeconds is unset (the signer's default may be a year; at most ${NODE_AGENT_MAX_CERTIFICATE_SECONDS} s is approved)`,
    );
  else if (expiration > NODE_AGENT_MAX_CERTIFICATE_SECONDS)
    failures.push(
      `spec.expirationSeconds ${expiration} is more than ${NODE_AGENT_MAX_CERTIFICATE_SECONDS} s (a client certificate cannot be revoked; it must expire)`,
    );

  failures.push(
    ...subjectFailures(request, {
      commonName: nodeAgentUser(machineName),
      commonNamePrefix: NODE_AGENT_USER_PREFIX,
      organization: NODE_AGENT_GROUP,
    }),
  );
  for (const san of subjectAlternativeNames(request))
    failures.push(`${SAN_KIND_NAMES[san.kind] ?? san.kind} SAN ${san.value} is not allowed`);

  const how = renewal ? 'renewal by the agent itself' : `first certificate, requested by ${username}`;
  if (failures.length === 0)
    return {
      verdict: 'approve',
      machine: machineName,
      message: `node-agent certificate for Machine ${machineName} approved (${how}, ${expiration ?? 0} s)`,
    };
  return {
    verdict: 'deny',
    machine: machineName,
    message: `node-agent certificate for Machine ${machineName} refused: ${failures.join('; ')}`,
  };
}

/** Node-agent client certificates, for the Machine the requested CN names. */
export const agentCsrPolicy: CsrApprovalPolicy = {
  signer: NODE_AGENT_SIGNER,
  machineOf: agentCsrMachineName,
  decide: decideAgentCsr,
  approvedReason: AGENT_APPROVED_REASON,
  deniedReason: AGENT_DENIED_REASON,
  deniedAction: 'DenyNodeAgentCertificate',
};
