/**
 * The serving-csr and agent-csr controllers on a real apiserver of its own (the test issues
 * kubelet client certificates with its CA; the shared control plane offers
 * none): kubelets authenticated as system:node:<name> post serving CSRs, the
 * operator approves or denies them, and the controller-manager signs the
 * approved one.
 */
import { createBootstrapToken, renderKubeconfig } from '@kok/pki';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import type { Manager } from '@kok/reconcile';
import { startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { KubeConfig } from '@kubernetes/client-node';
import type { V1CertificateSigningRequest, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { certificateSigningRequestType, machineType } from '../shared/resources.ts';
import { eventually, installCrds } from '../test-support/fleet.ts';
import { agentCsr, requestPem, servingCsr, servingRequestPem } from '../test-support/kubelet-csr.ts';
import type { MachineObject } from '@kok/api';

let controlPlane: ControlPlane;
let admin: KubeClient;
let operator: Manager | undefined;

beforeAll(async () => {
  // Joinable: the Node authorizer lets kubelets create CSRs, and the controller-manager signs kubelet-serving ones.
  controlPlane = await startControlPlane({ joinable: { address: '127.0.0.1' }, controllerManager: true });
  admin = new KubeClient(controlPlane.kubeConfig, { fieldManager: 'kok-test' });
  await installCrds(admin);
}, 180_000);

afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

afterAll(async () => {
  admin?.close();
  await controlPlane?.stop();
});

async function startOperator(labelSelector?: string): Promise<void> {
  operator = await createOperator({
    kubeConfig: controlPlane.kubeConfig,
    http: false,
    remediation: false,
    ...(labelSelector ? { labelSelector } : {}),
    logger: pino({ level: 'silent' }),
  });
  await operator.start();
}

async function createMachine(name: string, address: string, labels: Record<string, string> = {}) {
  await admin.create(machineType, {
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name, labels },
    spec: { address },
  } as MachineObject);
}

/** A client authenticated as the kubelet of `node`, by a certificate of the cluster CA. */
async function kubeletOf(node: string): Promise<KubeClient> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(await controlPlane.kubeconfigForUser(`system:node:${node}`, ['system:nodes']));
  return new KubeClient(kubeConfig);
}

/** `node`'s kubelet posts a serving CSR naming `node` and `ip`. */
async function postServingCsr(node: string, ip: string, name: string): Promise<void> {
  const kubelet = await kubeletOf(node);
  try {
    await kubelet.create(certificateSigningRequestType, servingCsr(name, await servingRequestPem(node, ip)));
  } finally {
    kubelet.close();
  }
}

type Condition = NonNullable<NonNullable<V1CertificateSigningRequest['status']>['conditions']>[number];

function decisionOf(name: string): Promise<Condition> {
  return eventually(`a decision on CSR ${name}`, async () => {
    const csr = await admin.get(certificateSigningRequestType, { name });
    return csr.status?.conditions?.find((c) => c.type === 'Approved' || c.type === 'Denied');
  });
}

describe('kubelet serving CSRs against their Machines', () => {
  it('approves the CSR of a kubelet naming its own node and Machine address, and the controller-manager signs it', async () => {
    await createMachine('node-a', '10.1.0.5');
    await startOperator();
    await postServingCsr('node-a', '10.1.0.5', 'serving-node-a');

    const decision = await decisionOf('serving-node-a');
    expect(decision).toMatchObject({ type: 'Approved', status: 'True', reason: 'KokMachineMatched' });
    expect(decision.message).toContain('Machine node-a');
    expect(decision.message).toContain('10.1.0.5');
    const signed = await eventually('the approved CSR signed', async () => {
      const csr = await admin.get(certificateSigningRequestType, { name: 'serving-node-a' });
      return csr.status?.certificate;
    });
    expect(Buffer.from(signed, 'base64').toString()).toContain('BEGIN CERTIFICATE');
  });

  it("denies a CSR naming another host's IP, says why on the CSR and in an Event on the Machine", async () => {
    await createMachine('node-b', '10.1.0.6');
    await startOperator();
    await postServingCsr('node-b', '10.1.0.5', 'serving-node-b-wrong-ip');

    const decision = await decisionOf('serving-node-b-wrong-ip');
    expect(decision).toMatchObject({ type: 'Denied', status: 'True', reason: 'KokMachineMismatch' });
    expect(decision.message).toContain("IP SAN 10.1.0.5 is not Machine node-b's spec.address 10.1.0.6");
    const event = await eventually('a Warning Event on Machine node-b', async () => {
      const { items } = await admin.list(builtinTypes.event, { namespace: 'default' });
      return items.find((e) => e.regarding?.kind === 'Machine' && e.regarding.name === 'node-b');
    });
    expect(event).toMatchObject({ type: 'Warning', reason: 'KokMachineMismatch' });
    expect(event.note).toContain('serving-node-b-wrong-ip');
    expect(event.note).toContain('10.1.0.5');
  });

  it('denies a CSR of a node that has no Machine', async () => {
    await startOperator();
    await postServingCsr('node-c', '10.1.0.7', 'serving-node-c');

    const decision = await decisionOf('serving-node-c');
    expect(decision).toMatchObject({ type: 'Denied', reason: 'KokMachineMismatch' });
    expect(decision.message).toContain('no Machine node-c');
  });

  it('under a label selector, leaves a CSR pending until its Machine appears, then approves it', async () => {
    await startOperator('kok-test=serving-csr');
    await postServingCsr('node-d', '10.1.0.8', 'serving-node-d');
    // Long enough for a pass of the controller: the CSR is not this operator's to judge yet.
    await new Promise((resolveWait) => setTimeout(resolveWait, 2_000));
    const pending = await admin.get(certificateSigningRequestType, { name: 'serving-node-d' });
    expect(pending.status?.conditions ?? []).toEqual([]);

    await createMachine('node-d', '10.1.0.8', { 'kok-test': 'serving-csr' });
    expect(await decisionOf('serving-node-d')).toMatchObject({
      type: 'Approved',
      reason: 'KokMachineMatched',
    });
  });
});

/** A client holding a fresh bootstrap token, as a host does before it has any identity. */
async function bootstrapClient(): Promise<KubeClient> {
  const token = createBootstrapToken({ ttlSeconds: 900, description: 'agent-csr test' });
  await admin.create(builtinTypes.secret, token.secret as V1Secret);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(
    renderKubeconfig({
      clusterName: 'test',
      server: controlPlane.server,
      certificateAuthorityPem: Buffer.from(
        controlPlane.kubeConfig.getCurrentCluster()?.caData ?? '',
        'base64',
      ).toString('utf8'),
      userName: 'bootstrap',
      credentials: { token: token.token },
    }),
  );
  const client = new KubeClient(kubeConfig);
  // The apiserver learns bootstrap tokens from a Secret informer: one just created may not authenticate yet.
  await eventually('the bootstrap token to authenticate', async () => {
    const review = await client.request<{ status: { userInfo: { username?: string } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    );
    return review.status.userInfo.username?.startsWith('system:bootstrap:');
  });
  return client;
}

async function postAgentCsr(client: KubeClient, subject: string, name: string): Promise<void> {
  const labels = { 'nodes.kok.dev/machine': name };
  await client.create(certificateSigningRequestType, agentCsr(name, await requestPem(subject), labels));
}

describe('node-agent client CSRs against their Machines', () => {
  it('approves the first certificate a bootstrap token holder asks for an existing Machine; the agent then is system:node-agent:<machine>', async () => {
    await createMachine('agent-a', '10.2.0.5');
    await startOperator();
    const host = await bootstrapClient();
    try {
      await postAgentCsr(host, 'CN=system:node-agent:agent-a, O=kok:node-agents', 'agent-a-1');
    } finally {
      host.close();
    }
    const decision = await decisionOf('agent-a-1');
    expect(decision).toMatchObject({ type: 'Approved', reason: 'KokNodeAgentMachineMatched' });
    expect(decision.message).toContain('first certificate, requested by system:bootstrap:');
    const signed = await eventually('the approved agent CSR signed', async () => {
      const csr = await admin.get(certificateSigningRequestType, { name: 'agent-a-1' });
      return csr.status?.certificate;
    });
    expect(Buffer.from(signed, 'base64').toString()).toContain('BEGIN CERTIFICATE');
    // The approval wrote conditions and kept the agent's label (the subresource writes metadata too).
    const approved = await admin.get(certificateSigningRequestType, { name: 'agent-a-1' });
    expect(approved.metadata?.labels).toEqual({ 'nodes.kok.dev/machine': 'agent-a-1' });
  });

  it('denies a bootstrap request for another group (system:nodes), and one for a Machine that does not exist, with Events', async () => {
    await createMachine('agent-b', '10.2.0.6');
    await startOperator();
    const host = await bootstrapClient();
    try {
      await postAgentCsr(host, 'CN=system:node-agent:agent-b, O=system:nodes', 'agent-b-nodes');
      await postAgentCsr(host, 'CN=system:node-agent:agent-z, O=kok:node-agents', 'agent-z-1');
      // Not an agent identity at all: someone else's business, left pending.
      await postAgentCsr(host, 'CN=alice, O=developers', 'not-an-agent');
    } finally {
      host.close();
    }
    const nodes = await decisionOf('agent-b-nodes');
    expect(nodes).toMatchObject({ type: 'Denied', reason: 'KokNodeAgentRefused' });
    expect(nodes.message).toContain('subject O "system:nodes" is not kok:node-agents');
    expect((await decisionOf('agent-z-1')).message).toContain('no Machine agent-z');
    const event = await eventually('a Warning Event on Machine agent-b', async () => {
      const { items } = await admin.list(builtinTypes.event, { namespace: 'default' });
      return items.find((e) => e.regarding?.kind === 'Machine' && e.regarding.name === 'agent-b');
    });
    expect(event).toMatchObject({ type: 'Warning', reason: 'KokNodeAgentRefused' });
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
    const other = await admin.get(certificateSigningRequestType, { name: 'not-an-agent' });
    expect(other.status?.conditions ?? []).toEqual([]);
  });
});
