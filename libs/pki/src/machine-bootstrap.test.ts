import { KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MachineBootstrapInputs } from './machine-bootstrap.ts';
import { machineBootstrap } from './machine-bootstrap.ts';

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

/** The bootstrap kubeconfig as a client loads it. */
function loadKubeconfig(content: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(content);
  return config;
}

describe('machineBootstrap', () => {
  it('hands the host a bootstrap kubeconfig and the CA, and names the agent command', () => {
    const bootstrap = machineBootstrap(inputs());
    expect(Object.keys(bootstrap)).toEqual(['machine', 'expiresAt', 'files', 'agentCommand']);
    expect(bootstrap.machine).toBe('worker-017');
    expect(bootstrap.expiresAt).toBe('2026-01-01T00:15:00Z');
    expect(bootstrap.files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['/etc/kubernetes/bootstrap-kubelet.conf', '600'],
      ['/etc/kubernetes/pki/ca.crt', '644'],
    ]);
    expect(bootstrap.files[1]?.content).toBe(CA);
    expect(bootstrap.agentCommand).toBe(
      'node-agent --machine worker-017 --bootstrap-kubeconfig /etc/kubernetes/bootstrap-kubelet.conf --kubeconfig /etc/kok/agent.kubeconfig',
    );
  });

  it('the kubeconfig authenticates with the token alone and trusts the CA it was given', () => {
    const content = machineBootstrap(inputs()).files[0]?.content ?? '';
    const config = loadKubeconfig(content);
    expect(config.getCurrentCluster()).toMatchObject({
      name: 'prod',
      server: 'https://api.prod.example:6443',
      caData: Buffer.from(CA).toString('base64'),
    });
    expect(config.getCurrentUser()).toMatchObject({
      name: 'kubelet-bootstrap',
      token: 'abcdef.0123456789abcdef',
    });
    const user = (parse(content) as { users: { user: Record<string, string> }[] }).users[0]?.user;
    expect(Object.keys(user ?? {})).toEqual(['token']);
  });

  it('ends the CA with a newline, as a PEM file does', () => {
    const bootstrap = machineBootstrap(inputs({ certificateAuthorityPem: CA.trimEnd() }));
    expect(bootstrap.files[1]?.content).toBe(CA);
  });

  it('for any machine, token and expiry: the files hold exactly that token and the command that machine', () => {
    const machineName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/);
    const token = fc
      .tuple(fc.stringMatching(/^[a-z0-9]{6}$/), fc.stringMatching(/^[a-z0-9]{16}$/))
      .map(([id, secret]) => `${id}.${secret}`);
    const expiry = fc.date({
      min: new Date('2025-01-01T00:00:00Z'),
      max: new Date('2035-01-01T00:00:00Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(machineName, token, expiry, (machine, tokenText, expiresAt) => {
        const bootstrap = machineBootstrap(inputs({ machine, token: tokenText, expiresAt }));
        expect(loadKubeconfig(bootstrap.files[0]?.content ?? '').getCurrentUser()?.token).toBe(tokenText);
        expect(bootstrap.files[1]?.content).not.toContain(tokenText);
        expect(bootstrap.agentCommand.split(' ')).toEqual([
          'node-agent',
          '--machine',
          machine,
          '--bootstrap-kubeconfig',
          '/etc/kubernetes/bootstrap-kubelet.conf',
          '--kubeconfig',
          '/etc/kok/agent.kubeconfig',
        ]);
        expect(Date.parse(bootstrap.expiresAt)).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
      }),
      { numRuns: 50 },
    );
  });
});
