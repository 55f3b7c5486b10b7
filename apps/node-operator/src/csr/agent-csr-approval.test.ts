import type { JsonGeneralName } from '@peculiar/x509';
import fc from 'fast-check';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { agentCsrMachineName, decideAgentCsr } from './agent-csr-approval.ts';
import { requestPem } from '../test-support/kubelet-csr.ts';
import type { MachineObject } from '@kok/api';

/** As the agent of Machine `w1` makes its first request with a bootstrap token, `shape` changing parts of it. */
interface CsrShape {
  subject?: string;
  sans?: JsonGeneralName[];
  signerName?: string;
  username?: string;
  groups?: string[];
  usages?: string[];
  expirationSeconds?: number | null;
  conditions?: { type: string; status: string }[];
  request?: string;
}

const BOOTSTRAP = {
  username: 'system:bootstrap:abcdef',
  groups: ['system:bootstrappers', 'system:authenticated'],
};
const RENEWAL = { username: 'system:node-agent:w1', groups: ['kok:node-agents', 'system:authenticated'] };

async function csr(shape: CsrShape = {}): Promise<V1CertificateSigningRequest> {
  const expiration = shape.expirationSeconds === undefined ? 86_400 : shape.expirationSeconds;
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'node-agent-w1-x' },
    spec: {
      signerName: shape.signerName ?? 'kubernetes.io/kube-apiserver-client',
      username: shape.username ?? BOOTSTRAP.username,
      groups: shape.groups ?? BOOTSTRAP.groups,
      usages: shape.usages ?? ['digital signature', 'client auth'],
      ...(expiration === null ? {} : { expirationSeconds: expiration }),
      request:
        shape.request ??
        Buffer.from(
          await requestPem(shape.subject ?? 'CN=system:node-agent:w1, O=kok:node-agents', shape.sans),
        ).toString('base64'),
    },
    ...(shape.conditions ? { status: { conditions: shape.conditions } } : {}),
  };
}

function machine(name: string, deleting = false): MachineObject {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, ...(deleting ? { deletionTimestamp: new Date(0) } : {}) },
    spec: {},
  } as MachineObject;
}

const w1 = machine('w1');

describe('agentCsrMachineName', () => {
  it('reads the Machine from the requested CN of the kube-apiserver-client signer only', async () => {
    expect(agentCsrMachineName(await csr())).toBe('w1');
    expect(agentCsrMachineName(await csr({ signerName: 'kubernetes.io/kubelet-serving' }))).toBeUndefined();
    expect(agentCsrMachineName(await csr({ subject: 'CN=alice, O=kok:node-agents' }))).toBeUndefined();
    expect(
      agentCsrMachineName(await csr({ subject: 'CN=system:node-agent:, O=kok:node-agents' })),
    ).toBeUndefined();
    expect(agentCsrMachineName(await csr({ request: 'bm90IGEgY3Ny' }))).toBeUndefined();
  });
});

describe('node-agent CSR decision', () => {
  it.each<[string, CsrShape]>([
    ['the first certificate, asked for with a bootstrap token', {}],
    ['a renewal by the agent itself', RENEWAL],
    [
      'key encipherment too (an RSA key)',
      { usages: ['digital signature', 'key encipherment', 'client auth'] },
    ],
    ['the longest lifetime allowed', { expirationSeconds: 7 * 24 * 3600 }],
  ])('approves %s', async (_, shape) => {
    const decision = decideAgentCsr(await csr(shape), w1);
    expect(decision).toMatchObject({ verdict: 'approve', machine: 'w1' });
  });

  it.each<[string, CsrShape, MachineObject | undefined, string]>([
    ['a Machine that does not exist', {}, undefined, 'no Machine w1'],
    ['a Machine being deleted', {}, machine('w1', true), 'Machine w1 is being deleted'],
    [
      "another agent's renewal",
      { username: 'system:node-agent:w2', groups: RENEWAL.groups },
      w1,
      'requested by "system:node-agent:w2", neither a bootstrap token (system:bootstrappers) nor system:node-agent:w1 itself',
    ],
    [
      'a requester that is neither',
      { username: 'alice', groups: ['system:authenticated'] },
      w1,
      'requested by "alice"',
    ],
    ['no expiration', { expirationSeconds: null }, w1, 'spec.expirationSeconds is unset'],
    [
      'a lifetime of a year',
      { expirationSeconds: 365 * 24 * 3600 },
      w1,
      'spec.expirationSeconds 31536000 is more than 604800 s',
    ],
    [
      'a group besides kok:node-agents',
      { subject: 'CN=system:node-agent:w1, O=system:masters' },
      w1,
      'subject O "system:masters" is not kok:node-agents',
    ],
    [
      'two groups',
      { subject: 'CN=system:node-agent:w1, O=kok:node-agents, O=system:masters' },
      w1,
      'subject O "kok:node-agents", "system:masters" is not kok:node-agents',
    ],
    [
      'another subject attribute',
      { subject: 'CN=system:node-agent:w1, O=kok:node-agents, OU=ops' },
      w1,
      'subject carries OU besides CN and O',
    ],
    ['a subject alternative name', { sans: [{ type: 'dns', value: 'w1' }] }, w1, 'DNS SAN w1 is not allowed'],
    [
      'server auth',
      { usages: ['digital signature', 'client auth', 'server auth'] },
      w1,
      'server auth not allowed',
    ],
    ['no client auth', { usages: ['digital signature'] }, w1, 'client auth missing'],
  ])('denies %s', async (_, shape, target, reason) => {
    const decision = decideAgentCsr(await csr(shape), target);
    expect(decision.verdict).toBe('deny');
    expect(decision.message).toContain(reason);
  });

  it('names every failed check in one message', async () => {
    const decision = decideAgentCsr(
      await csr({ username: 'alice', groups: [], expirationSeconds: null, usages: ['server auth'] }),
      undefined,
    );
    expect(decision.message.split('; ').length).toBeGreaterThanOrEqual(4);
  });

  it('leaves alone what is not an agent identity, decided CSRs and Machines another operator manages', async () => {
    expect(decideAgentCsr(await csr({ subject: 'CN=alice, O=system:masters' }), w1).verdict).toBe('ignore');
    expect(decideAgentCsr(await csr({ signerName: 'example.com/other' }), w1).verdict).toBe('ignore');
    expect(decideAgentCsr(await csr({ conditions: [{ type: 'Denied', status: 'True' }] }), w1).verdict).toBe(
      'ignore',
    );
    expect(decideAgentCsr(await csr(), undefined, { partialMachineView: true }).verdict).toBe('ignore');
    expect(decideAgentCsr(await csr(), undefined).verdict).toBe('deny');
  });

  it('never approves a certificate that carries a group other than kok:node-agents or outlives a week', async () => {
    const group = fc.constantFrom('kok:node-agents', 'system:masters', 'system:nodes', 'admins');
    await fc.assert(
      fc.asyncProperty(
        fc.array(group, { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 600, max: 2 * 7 * 24 * 3600 }),
        fc.boolean(),
        async (organizations, expirationSeconds, renewal) => {
          const subject = ['CN=system:node-agent:w1', ...organizations.map((o) => `O=${o}`)].join(', ');
          const decision = decideAgentCsr(
            await csr({ subject, expirationSeconds, ...(renewal ? RENEWAL : {}) }),
            w1,
          );
          const allowed =
            organizations.length === 1 &&
            organizations[0] === 'kok:node-agents' &&
            expirationSeconds <= 604_800;
          expect(decision.verdict).toBe(allowed ? 'approve' : 'deny');
        },
      ),
      { numRuns: 60 },
    );
  });
});
