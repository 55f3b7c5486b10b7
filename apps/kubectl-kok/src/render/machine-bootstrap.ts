/**
 * `kubectl kok machine bootstrap` as text: what to write on the host, file by
 * file with its content verbatim, then how to start the agent and what it
 * still needs.
 */
import { NODE_AGENT_GROUP, nodeAgentUser } from '@kok/api';
import { AGENT_KUBECONFIG_PATH } from '@kok/pki';
import type { MachineBootstrap } from '@kok/pki';

const WHAT: Readonly<Record<string, string>> = {
  '/etc/kubernetes/bootstrap-kubelet.conf':
    "the kubelet's and the agent's bootstrap kubeconfig (holds the token)",
  '/etc/kubernetes/pki/ca.crt': 'the cluster CA',
};

/** A duration as Go writes it, the way --ttl takes it: `15m`, `1h30m`, `90s` → `1m30s`. */
export function formatTtl(seconds: number): string {
  const parts: [number, string][] = [
    [Math.floor(seconds / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  return (
    parts
      .filter(([value]) => value > 0)
      .map(([value, unit]) => `${value}${unit}`)
      .join('') || '0s'
  );
}

export function renderMachineBootstrap(
  bootstrap: MachineBootstrap,
  token: { secretName: string; namespace: string; ttlSeconds: number },
): string {
  const validFor = formatTtl(token.ttlSeconds);
  const files = bootstrap.files.map((file) => {
    const what = WHAT[file.path];
    const content = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
    return `--- ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')})${what ? `: ${what}` : ''}\n${content}`;
  });
  return [
    `Bootstrap token for Machine "${bootstrap.machine}": Secret ${token.namespace}/${token.secretName}, ` +
      `valid for ${validFor} (until ${bootstrap.expiresAt}).`,
    '',
    'Write on the host:',
    '',
    ...files,
    '--- then start the node-agent (it installs the kubelet, which joins with the token above):',
    bootstrap.agentCommand,
    '',
    `The agent asks with the same token for its own client certificate (user ${nodeAgentUser(bootstrap.machine)} ` +
      `in group ${NODE_AGENT_GROUP}), which the node-operator approves for this Machine, and keeps it in ` +
      `${AGENT_KUBECONFIG_PATH}, renewing it before it expires.`,
    '',
  ].join('\n');
}
