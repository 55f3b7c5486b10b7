import {
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedVersions } from './binaries.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { eventually } from './eventually.ts';
import { isAlive } from './process-liveness.ts';
import { uniqueName } from './unique-name.ts';

describe('startControlPlane (etcd + kube-apiserver)', () => {
  let controlPlane: ControlPlane;
  let core: CoreV1Api;

  beforeAll(async () => {
    controlPlane = await startControlPlane();
    core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterAll(() => controlPlane?.stop());

  it('serves the pinned Kubernetes version', async () => {
    const version = await controlPlane.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(pinnedVersions().kubernetes);
  });

  it('round-trips a Namespace and a ConfigMap through etcd', async () => {
    const namespace = uniqueName('roundtrip');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { mode: 'canary', 'max-unavailable': '10%' } },
    });
    const read = await core.readNamespacedConfigMap({ namespace, name: 'settings' });
    expect(read.data).toEqual({ mode: 'canary', 'max-unavailable': '10%' });
    expect((await core.readNamespace({ name: namespace })).status?.phase).toBe('Active');
  });

  it('keeps its data across an apiserver restart', async () => {
    const namespace = uniqueName('restart');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await controlPlane.stopApiServer();
    await expect(core.readNamespace({ name: namespace })).rejects.toThrow();
    await controlPlane.startApiServer();
    expect((await core.readNamespace({ name: namespace })).metadata?.name).toBe(namespace);
  });
});

describe('stop()', () => {
  it('leaves no process and no temp dir behind', async () => {
    const controlPlane = await startControlPlane({ kwok: true });
    const pids = controlPlane.processes().map((p) => p.pid as number);
    expect(pids).toHaveLength(3);
    expect(pids.every(isAlive)).toBe(true);
    expect(existsSync(controlPlane.dir)).toBe(true);

    await controlPlane.stop();

    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(controlPlane.dir)).toBe(false);
  });

  it('still cleans up when the owning process is SIGKILLed', async () => {
    const fixture = new URL('./fixtures/start-and-wait.ts', import.meta.url).pathname;
    const owner = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = await new Promise<string>((resolveLine) =>
      createInterface({ input: owner.stdout }).once('line', resolveLine),
    );
    const { dir, pids } = JSON.parse(firstLine) as { dir: string; pids: number[] };
    expect(pids.every(isAlive)).toBe(true);

    owner.kill('SIGKILL');

    // Deadlines, not speed figures: the watchdog is a Node.js process, slow to react on a loaded machine.
    await eventually(
      'every process of the control plane to exit',
      () => pids.every((pid) => !isAlive(pid)),
      60_000,
    );
    await eventually('its directory to be removed', () => !existsSync(dir), 60_000);
  });

  it('reports the failing component and its last log lines when a start fails', async () => {
    const failure = startControlPlane({ extraArgs: { apiServer: ['--no-such-flag=1'] } });
    await expect(failure).rejects.toThrow(/kube-apiserver exited[\s\S]*last \d+ lines[\s\S]*no-such-flag/);
  });
});

describe('a kubeconfig issued from the cluster CA', () => {
  let controlPlane: ControlPlane;
  beforeAll(async () => {
    controlPlane = await startControlPlane();
  });
  afterAll(() => controlPlane?.stop());

  it('authenticates as the intended user, and RBAC decides what it may do', async () => {
    const namespace = uniqueName('rbac');
    const admin = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    await admin.createNamespace({ body: { metadata: { name: namespace } } });

    const alice = new KubeConfig();
    alice.loadFromString(await controlPlane.kubeconfigForUser('alice', ['sre']));
    const aliceCore = alice.makeApiClient(CoreV1Api);
    await expect(aliceCore.listNamespacedConfigMap({ namespace })).rejects.toMatchObject({ code: 403 });

    const review = await alice.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('alice');
    expect(review.status?.userInfo?.groups).toContain('sre');

    const rbac = controlPlane.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'sre-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'sre' }],
      },
    });
    // RBAC changes reach the authorizer through an informer: retry (slow on a loaded machine).
    const allowed = await eventually(
      'alice to list ConfigMaps',
      () => aliceCore.listNamespacedConfigMap({ namespace }),
      30_000,
    );
    expect(allowed.items).toEqual([]);
    // The role grants no writes.
    await expect(
      aliceCore.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x' } } }),
    ).rejects.toMatchObject({ code: 403 });
  });
});
