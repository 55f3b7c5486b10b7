import type { JsonGeneralName } from '@peculiar/x509';
import fc from 'fast-check';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isDecided } from './csr-request.ts';
import { decideServingCsr, servingCsrNodeName } from './serving-csr-approval.ts';
import { servingRequestPem } from '../test-support/kubelet-csr.ts';
import type { ServingRequestShape } from '../test-support/kubelet-csr.ts';
import type { MachineObject } from '@kok/api';

/** As the kubelet of node `w1` at 10.0.0.5 makes it, with `shape` changing parts of it. */
interface CsrShape extends ServingRequestShape {
  signerName?: string;
  username?: string;
  groups?: string[];
  usages?: string[];
  conditions?: { type: string; status: string }[];
  /** Replaces the encoded request. */
  request?: string;
}

async function csr(shape: CsrShape = {}): Promise<V1CertificateSigningRequest> {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'csr-w1' },
    spec: {
      signerName: shape.signerName ?? 'kubernetes.io/kubelet-serving',
      username: shape.username ?? 'system:node:w1',
      groups: shape.groups ?? ['system:nodes', 'system:authenticated'],
      usages: shape.usages ?? ['digital signature', 'server auth'],
      request:
        shape.request ?? Buffer.from(await servingRequestPem('w1', '10.0.0.5', shape)).toString('base64'),
    },
    ...(shape.conditions ? { status: { conditions: shape.conditions } } : {}),
  };
}

function machine(name: string, address?: string, deleting = false): MachineObject {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, ...(deleting ? { deletionTimestamp: new Date(0) } : {}) },
    spec: address === undefined ? {} : { address },
  } as MachineObject;
}

const w1 = machine('w1', '10.0.0.5');

describe('servingCsrNodeName', () => {
  it('reads the node from spec.username and nothing else', async () => {
    expect(servingCsrNodeName(await csr())).toBe('w1');
    expect(servingCsrNodeName(await csr({ username: 'system:node:' }))).toBeUndefined();
    expect(servingCsrNodeName(await csr({ username: 'alice' }))).toBeUndefined();
  });
});

describe('kubelet serving CSR decision', () => {
  it.each<[string, CsrShape, MachineObject]>([
    ['the node name and the Machine IP', {}, w1],
    [
      'key encipherment too (an RSA key)',
      { usages: ['digital signature', 'key encipherment', 'server auth'] },
      w1,
    ],
    ['the node name alone', { sans: [{ type: 'dns', value: 'w1' }] }, w1],
    [
      'the Machine DNS name, in another case',
      {
        sans: [
          { type: 'dns', value: 'w1' },
          { type: 'dns', value: 'w1.hosts.example.com' },
        ],
      },
      machine('w1', 'W1.Hosts.example.com'),
    ],
    [
      'an IPv6 address spelled differently from the Machine',
      { sans: [{ type: 'ip', value: '2001:db8::5' }] },
      machine('w1', '2001:0DB8:0:0::5'),
    ],
  ])('approves a request naming %s', async (_, shape, m) => {
    const decision = decideServingCsr(await csr(shape), m);
    expect(decision).toMatchObject({ verdict: 'approve', machine: 'w1' });
    expect(decision.message).toContain('Machine w1');
  });

  it.each<[string, CsrShape, MachineObject | undefined, string]>([
    [
      'a Machine whose address differs',
      {},
      machine('w1', '10.0.0.6'),
      "IP SAN 10.0.0.5 is not Machine w1's spec.address 10.0.0.6",
    ],
    [
      'a SAN for another node',
      {
        sans: [
          { type: 'dns', value: 'w1' },
          { type: 'dns', value: 'w2' },
        ],
      },
      w1,
      'DNS SAN w2 is neither the node name w1',
    ],
    [
      "another node's IP",
      { sans: [{ type: 'ip', value: '10.0.0.7' }] },
      w1,
      "IP SAN 10.0.0.7 is not Machine w1's spec.address 10.0.0.5",
    ],
    ['no Machine', {}, undefined, 'no Machine w1'],
    ['a Machine being deleted', {}, machine('w1', '10.0.0.5', true), 'Machine w1 is being deleted'],
    [
      'a node name in the CN other than the requester',
      { subject: 'CN=system:node:w2, O=system:nodes' },
      w1,
      'subject CN "system:node:w2" is not system:node:w1 of the requester',
    ],
    [
      'an extra URI SAN',
      {
        sans: [
          { type: 'dns', value: 'w1' },
          { type: 'url', value: 'spiffe://cluster/ns/kube-system' },
        ],
      },
      w1,
      'URI SAN spiffe://cluster/ns/kube-system is not allowed',
    ],
    [
      'an email SAN',
      {
        sans: [
          { type: 'dns', value: 'w1' },
          { type: 'email', value: 'root@w1' },
        ],
      },
      w1,
      'email SAN root@w1 is not allowed',
    ],
    ['no SAN at all', { sans: [] }, w1, 'no DNS or IP subject alternative name'],
    [
      'an IP SAN while the Machine has a DNS name',
      {},
      machine('w1', 'w1.hosts.example.com'),
      'IP SAN 10.0.0.5: Machine w1 has no IP address (spec.address w1.hosts.example.com)',
    ],
    [
      'an IP SAN while the Machine has no address',
      {},
      machine('w1'),
      'IP SAN 10.0.0.5: Machine w1 has no IP address (spec.address unset)',
    ],
    ['a requester who is not a node', { username: 'alice' }, w1, 'requested by "alice", not by a node'],
    [
      'a requester outside system:nodes',
      { groups: ['system:authenticated'] },
      w1,
      'the requester is not in group system:nodes',
    ],
    [
      'another organization',
      { subject: 'CN=system:node:w1, O=system:masters' },
      w1,
      'subject O "system:masters" is not system:nodes',
    ],
    [
      'an extra subject attribute',
      { subject: 'CN=system:node:w1, O=system:nodes, OU=ops' },
      w1,
      'subject carries OU besides CN and O',
    ],
    [
      'client auth among the usages',
      { usages: ['digital signature', 'server auth', 'client auth'] },
      w1,
      'client auth not allowed',
    ],
    ['no server auth', { usages: ['digital signature'] }, w1, 'server auth missing'],
    [
      'a request that is not PEM',
      { request: Buffer.from('garbage').toString('base64') },
      w1,
      'spec.request is not a PEM CERTIFICATE REQUEST',
    ],
  ])('denies a request with %s, saying why', async (_, shape, m, why) => {
    const decision = decideServingCsr(await csr(shape), m);
    expect(decision.verdict).toBe('deny');
    expect(decision.message).toContain(why);
  });

  it('names every failed check in one message', async () => {
    const decision = decideServingCsr(
      await csr({
        subject: 'CN=system:node:w2, O=system:nodes',
        sans: [{ type: 'ip', value: '10.0.0.9' }],
        usages: ['digital signature', 'server auth', 'client auth'],
      }),
      w1,
    );
    expect(decision.message).toMatch(/^serving certificate for Machine w1 refused: /);
    expect(decision.message).toContain('subject CN');
    expect(decision.message).toContain('IP SAN 10.0.0.9');
    expect(decision.message).toContain('client auth');
  });

  it.each<[string, CsrShape]>([
    ['another signer', { signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }],
    ['a request already approved', { conditions: [{ type: 'Approved', status: 'True' }] }],
    ['a request already denied', { conditions: [{ type: 'Denied', status: 'True' }] }],
  ])('ignores %s', async (_, shape) => {
    expect(decideServingCsr(await csr(shape), undefined).verdict).toBe('ignore');
    expect(decideServingCsr(await csr(shape), w1).verdict).toBe('ignore');
  });

  it('leaves a request whose Machine it cannot see to the operator that can, under a label selector', async () => {
    const request = await csr({ sans: [{ type: 'ip', value: '10.0.0.9' }] });
    expect(decideServingCsr(request, undefined, { partialMachineView: true }).verdict).toBe('ignore');
    expect(decideServingCsr(request, w1, { partialMachineView: true }).verdict).toBe('deny');
  });

  it('counts only Approved and Denied conditions as a decision', async () => {
    expect(isDecided(await csr({ conditions: [{ type: 'Failed', status: 'True' }] }))).toBe(false);
    expect(isDecided(await csr({ conditions: [{ type: 'Approved', status: 'True' }] }))).toBe(true);
  });

  it('approves exactly when every IP SAN is the Machine address and every DNS SAN the node name', async () => {
    const octet = fc.integer({ min: 0, max: 3 });
    const san = fc.oneof(
      octet.map((o): JsonGeneralName => ({ type: 'ip', value: `10.0.0.${o}` })),
      fc.constantFrom<JsonGeneralName>({ type: 'dns', value: 'w1' }, { type: 'dns', value: 'w2' }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(san, { minLength: 1, maxLength: 4 }), octet, async (sans, o) => {
        const address = `10.0.0.${o}`;
        const decision = decideServingCsr(await csr({ sans }), machine('w1', address));
        const matches = sans.every((s) => (s.type === 'ip' ? s.value === address : s.value === 'w1'));
        expect(decision.verdict).toBe(matches ? 'approve' : 'deny');
      }),
      { numRuns: 60 },
    );
  });
});
