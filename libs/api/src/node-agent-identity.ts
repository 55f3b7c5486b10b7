/**
 * Who a node agent is to the apiserver: user `system:node-agent:<machine>` in
 * group `kok:node-agents`, from a client certificate that the agent asks for
 * with a CertificateSigningRequest and the node-operator approves. RBAC,
 * the admission policy, the approver and the agent all spell it from here.
 */
export const NODE_AGENT_GROUP = 'kok:node-agents';
export const NODE_AGENT_USER_PREFIX = 'system:node-agent:';

/** The signer of agent certificates: the controller-manager signs them, the apiserver trusts them. */
export const NODE_AGENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

/**
 * The longest an agent certificate may live. Kubernetes cannot revoke a client
 * certificate, so a removed host's agent is shut out by expiry: the approver
 * refuses a CSR that asks for more.
 */
export const NODE_AGENT_MAX_CERTIFICATE_SECONDS = 7 * 24 * 3600;

export function nodeAgentUser(machine: string): string {
  return `${NODE_AGENT_USER_PREFIX}${machine}`;
}

/** The Machine a `system:node-agent:<machine>` user speaks for, if it is one. */
export function machineOfNodeAgent(user: string): string | undefined {
  if (!user.startsWith(NODE_AGENT_USER_PREFIX)) return undefined;
  return user.slice(NODE_AGENT_USER_PREFIX.length) || undefined;
}
