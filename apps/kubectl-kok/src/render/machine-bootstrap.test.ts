import fc from 'fast-check';
import { machineBootstrap } from '@kok/pki';
import type { MachineBootstrapInputs } from '@kok/pki';
import { describe, expect, it } from 'vitest';
import { tokenTtlSeconds } from '../command-line.ts';
import { formatTtl, renderMachineBootstrap } from './machine-bootstrap.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function inputs(overrides: Partial<MachineBootstrapInputs> = {}): MachineBootstrapInputs {
  return {
    machine: 'worker-017',
    token: 'abcdef.0123456789abcdef',
    expiresAt: new Date('2026-01-01T00:15:00.000Z'),
    server: 'https://api.prod.example:6443',
    clusterName: 'prod',
    certificateAuthorityPem: CA,
    ...overrides,
  };
}

describe('renderMachineBootstrap', () => {
  const text = renderMachineBootstrap(machineBootstrap(inputs()), {
    secretName: 'bootstrap-token-abcdef',
    namespace: 'kube-system',
    ttlSeconds: 900,
  });

  it.each([
    [900, '15m'],
    [5400, '1h30m'],
    [90, '1m30s'],
    [7200, '2h'],
    [86_461, '24h1m1s'],
  ])('writes a token life of %i s as --ttl takes it: %s', (seconds, expected) => {
    expect(formatTtl(seconds)).toBe(expected);
  });

  it('writes every token life so that --ttl reads it back unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 30 * 86_400 }), (seconds) => {
        expect(tokenTtlSeconds(formatTtl(seconds))).toBe(seconds);
      }),
    );
  });

  it('says which token was made and how long it lives', () => {
    expect(text.split('\n')[0]).toBe(
      'Bootstrap token for Machine "worker-017": Secret kube-system/bootstrap-token-abcdef, ' +
        'valid for 15m (until 2026-01-01T00:15:00Z).',
    );
  });

  it('prints every file with its mode and its content verbatim, then the agent command', () => {
    const bootstrap = machineBootstrap(inputs());
    expect(text).toContain(
      "--- /etc/kubernetes/bootstrap-kubelet.conf (mode 0600): the kubelet's and the agent's bootstrap kubeconfig (holds the token)\n" +
        bootstrap.files[0]?.content,
    );
    expect(text).toContain(`--- /etc/kubernetes/pki/ca.crt (mode 0644): the cluster CA\n${CA}`);
    expect(text).toContain(
      '--- then start the node-agent (it installs the kubelet, which joins with the token above):\n' +
        'node-agent --machine worker-017 --bootstrap-kubeconfig /etc/kubernetes/bootstrap-kubelet.conf --kubeconfig /etc/kok/agent.kubeconfig\n',
    );
    expect(text.indexOf('bootstrap-kubelet.conf')).toBeLessThan(text.indexOf('node-agent --machine'));
  });

  it('says how the agent gets its own credential: by a CSR with the same token, approved for this Machine', () => {
    expect(text).toContain(
      'The agent asks with the same token for its own client certificate (user system:node-agent:worker-017 ' +
        'in group kok:node-agents), which the node-operator approves for this Machine, and keeps it in ' +
        '/etc/kok/agent.kubeconfig, renewing it before it expires.\n',
    );
  });
});
