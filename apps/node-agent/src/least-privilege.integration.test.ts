/**
 * deploy/rbac.yaml, deploy/admission-policy.yaml and Machine A's grant (as the
 * node-operator writes it) on a real apiserver of its own (the test issues
 * client certificates with its CA): agent A may read and report on Machine A,
 * is refused on Machine B, and is shut out once its grant is revoked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { nodeAgentGrant } from '@kok/api';
import { builtinTypes, ForbiddenError, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { NodeAgent } from './agent/node-agent.ts';
import {
  applyDeployFile,
  eventually,
  getMachine,
  installNodeCrds,
  putMachineSpec,
} from './fixtures/cluster.ts';
import { machineType } from './resources.ts';

let controlPlane: ControlPlane;
let admin: KubeClient;
let agentA: KubeClient;
let agentAConfig: KubeConfig;

function statusPatch(client: KubeClient, machine: string) {
  return client.patch(
    machineType,
    { name: machine },
    PatchType.merge,
    { status: { agent: { version: '0.0.0' } } },
    { subresource: 'status' },
  );
}

beforeAll(async () => {
  controlPlane = await startControlPlane();
  admin = new KubeClient(controlPlane.kubeConfig);
  await installNodeCrds(admin);
  await applyDeployFile(admin, 'rbac.yaml');
  await applyDeployFile(admin, 'admission-policy.yaml');
  await putMachineSpec(admin, 'machine-a', { pool: 'workers' });
  await putMachineSpec(admin, 'machine-b', { pool: 'workers' });
  const machineA = await getMachine(admin, 'machine-a');
  for (const object of nodeAgentGrant('machine-a', machineA.metadata?.uid ?? ''))
    await admin.apply(
      grantType(object.kind, object.metadata.namespace !== undefined),
      object as KubernetesObject,
    );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(
    await controlPlane.kubeconfigForUser('system:node-agent:machine-a', ['kok:node-agents']),
  );
  agentA = new KubeClient(kubeConfig);
  agentAConfig = kubeConfig;
}, 120_000);

afterAll(async () => {
  agentA?.close();
  admin?.close();
  await controlPlane?.stop();
});

function grantType(kind: string, namespaced: boolean) {
  return resourceType('rbac.authorization.k8s.io/v1', kind, `${kind.toLowerCase()}s`, namespaced);
}

describe('node agent least privilege', () => {
  it('lets agent A watch its Machine and write its status', async () => {
    const { items } = await agentA.list(machineType, { fieldSelector: 'metadata.name=machine-a' });
    expect(items.map((m) => m.metadata?.name)).toEqual(['machine-a']);
    // The policy binding takes a moment to be enforced; once it is, A's own write still passes.
    const patched = await eventually('status patch of machine-a', () => statusPatch(agentA, 'machine-a'));
    expect(patched.status?.agent?.version).toBe('0.0.0');
  });

  it('refuses agent A on Machine B, reading or writing, naming both', async () => {
    const error = await statusPatch(agentA, 'machine-b').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toContain('system:node-agent:machine-a');
    expect((error as Error).message).toContain('machine-b');
    await expect(agentA.get(machineType, { name: 'machine-b' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      agentA.list(machineType, { fieldSelector: 'metadata.name=machine-b' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(agentA.list(machineType, {})).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('confines agent A to its own Machine by admission as well, should RBAC ever grant more', async () => {
    // A broader grant, as a mistaken ClusterRole would give: the admission policy still refuses.
    const broad = { metadata: { name: 'test:too-broad' } };
    await admin.apply(grantType('ClusterRole', false), {
      ...broad,
      rules: [{ apiGroups: ['nodes.kok.dev'], resources: ['machines/status'], verbs: ['patch'] }],
    } as KubernetesObject);
    await admin.apply(grantType('ClusterRoleBinding', false), {
      ...broad,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'test:too-broad' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kok:node-agents' }],
    } as KubernetesObject);
    try {
      const error = await eventually('the admission policy to refuse agent A on machine-b', () =>
        statusPatch(agentA, 'machine-b').then(
          () => undefined,
          (e: unknown) => ((e as Error).message.includes('may only write') ? e : undefined),
        ),
      );
      expect(error).toBeInstanceOf(ForbiddenError);
    } finally {
      await admin.delete(grantType('ClusterRoleBinding', false), broad.metadata);
      await admin.delete(grantType('ClusterRole', false), broad.metadata);
    }
  });

  it('refuses agent A any change to spec or deletion, even of its own Machine', async () => {
    await expect(
      agentA.patch(machineType, { name: 'machine-a' }, PatchType.merge, { spec: { unschedulable: true } }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      agentA.request('DELETE', '/apis/nodes.kok.dev/v1alpha1/machines/machine-a'),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('lets agent A read Secrets and ConfigMaps in kok-node-files only, and write none', async () => {
    const filesNs = 'kok-node-files';
    await admin.create(builtinTypes.secret, {
      metadata: { namespace: filesNs, name: 'shared' },
      stringData: { token: 'shared-token' },
    });
    await admin.create(builtinTypes.secret, {
      metadata: { namespace: 'default', name: 'elsewhere' },
      stringData: { token: 'not-for-agents' },
    });
    const own = await eventually('agent A reading kok-node-files', () =>
      agentA.list(builtinTypes.secret, { namespace: filesNs, fieldSelector: 'metadata.name=shared' }),
    );
    expect(own.items.map((s) => s.metadata?.name)).toEqual(['shared']);
    await expect(
      agentA.list(builtinTypes.secret, { namespace: 'default', fieldSelector: 'metadata.name=elsewhere' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(agentA.list(builtinTypes.secret, {})).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      agentA.create(builtinTypes.configMap, { metadata: { namespace: filesNs, name: 'mine' }, data: {} }),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('runs the agent as agent A: a file from kok-node-files is written, one from elsewhere is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kok-agent-rbac-'));
    await putMachineSpec(admin, 'machine-a', {
      pool: 'workers',
      revision: 'files-1',
      files: [
        { path: '/etc/kok/token', secretRef: { namespace: 'kok-node-files', name: 'shared', key: 'token' } },
        { path: '/etc/kok/stolen', secretRef: { namespace: 'default', name: 'elsewhere', key: 'token' } },
      ],
    });
    const agent = new NodeAgent({
      machineName: 'machine-a',
      kubeConfig: agentAConfig,
      root,
      serviceManager: 'supervisor',
      resyncIntervalMs: 500,
      logger: pino({ level: 'silent' }),
    });
    try {
      await agent.start();
      const status = await eventually('agent A to report the unreadable Secret', async () => {
        const s = (await getMachine(admin, 'machine-a')).status;
        const ready = s?.conditions?.find((c) => c.type === 'AgentReady');
        return ready?.reason === 'FileSourceUnavailable' && s?.files?.length ? s : undefined;
      });
      expect(readFileSync(join(root, '/etc/kok/token'), 'utf8')).toBe('shared-token');
      expect(() => readFileSync(join(root, '/etc/kok/stolen'), 'utf8')).toThrow();
      expect(status.files?.map((f) => f.path)).toEqual(['/etc/kok/token']);
      expect(status.conditions?.find((c) => c.type === 'AgentReady')?.message).toContain(
        'Secret default/elsewhere could not be read',
      );
    } finally {
      await agent.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('shuts agent A out of its Machine and the node files once its grant is revoked, certificate or not', async () => {
    for (const object of [...nodeAgentGrant('machine-a', '')].reverse())
      await admin.delete(grantType(object.kind, object.metadata.namespace !== undefined), object.metadata);
    await eventually('agent A refused its own Machine', () =>
      agentA.get(machineType, { name: 'machine-a' }).then(
        () => undefined,
        (e: unknown) => (e instanceof ForbiddenError ? true : undefined),
      ),
    );
    await expect(
      agentA.list(builtinTypes.secret, {
        namespace: 'kok-node-files',
        fieldSelector: 'metadata.name=shared',
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(statusPatch(agentA, 'machine-a')).rejects.toBeInstanceOf(ForbiddenError);
  });
});
