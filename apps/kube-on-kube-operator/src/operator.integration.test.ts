/**
 * The operator end to end against the shared control plane (kube-controller-
 * manager, scheduler, kwok nodes whose pods turn Ready at once): a Cluster
 * comes up in gate order, a patch upgrade rolls components in skew-safe order,
 * and deletion leaves nothing behind.
 */
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { describeCertificate, isSignedBy } from '@kok/pki';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames, clusterSelector } from './names.ts';
import { createOperator } from './operator.ts';
import type { ClusterObject } from './resource-types.ts';
import {
  clusterType,
  deploymentType,
  persistentVolumeClaimType,
  secretType,
  serviceType,
  statefulSetType,
} from './resource-types.ts';
import { eventually, freshNamespace, installClusterCrds } from './test-support.ts';

const storageClassType = resourceType('storage.k8s.io/v1', 'StorageClass', 'storageclasses', false);
const persistentVolumeType = resourceType('v1', 'PersistentVolume', 'persistentvolumes', false);

let client: KubeClient;
let ns: string;
let operator: Manager;
const storageClass = `kok-test-${process.pid}-${Date.now().toString(36)}`;
const CLUSTER = 'biz';
const ETCD_REPLICAS = 3;

const text = (secret: V1Secret | undefined, key: string) =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString();

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-e2e');
  // etcd's claims bind to pre-made volumes: the shared control plane has no provisioner.
  await client.create(storageClassType, {
    metadata: { name: storageClass },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Retain',
  } as never);
  for (let i = 0; i < ETCD_REPLICAS; i++) {
    await client.create(persistentVolumeType, {
      metadata: { name: `${storageClass}-${i}` },
      spec: {
        storageClassName: storageClass,
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/tmp/${storageClass}-${i}` },
      },
    } as never);
  }
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'warn' }),
  });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  for (let i = 0; i < ETCD_REPLICAS; i++)
    await client?.delete(persistentVolumeType, { name: `${storageClass}-${i}` });
  await client?.delete(storageClassType, { name: storageClass });
  client?.close();
});

const getCluster = () => client.get(clusterType, { namespace: ns, name: CLUSTER });
const condition = (c: ClusterObject, type: string) =>
  c.status?.conditions?.find((x) => x.type === type)?.status;
const gate = (c: ClusterObject, name: string) => {
  const g = c.status?.gates?.find((x) => x.name === name);
  if (!g?.completedAt) throw new Error(`gate ${name} not completed: ${JSON.stringify(c.status?.gates)}`);
  return { started: Date.parse(g.startedAt), completed: Date.parse(g.completedAt) };
};

describe('a Cluster becomes a biz-cluster control plane', () => {
  const names = () => clusterNames(ns, CLUSTER);

  it('comes up in gate order and reports Available with every condition', async () => {
    await client.create(clusterType, {
      apiVersion: 'clusters.kok.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: CLUSTER, namespace: ns },
      spec: {
        version: 'v1.36.3',
        etcd: { replicas: ETCD_REPLICAS, storage: { size: '1Gi', storageClassName: storageClass } },
        controlPlane: {
          apiServer: {
            replicas: 2,
            extraArgs: { 'max-requests-inflight': '800' },
            featureGates: { ExampleGate: true },
          },
          controllerManager: { replicas: 1 },
          scheduler: { replicas: 1 },
        },
        certSANs: ['api.biz.example.test', '203.0.113.10'],
      },
    });
    const ready = await eventually(
      'the Cluster to be Ready',
      async () => {
        const c = await getCluster();
        return c.status?.phase === 'Ready' ? c : undefined;
      },
      60_000,
    );
    for (const type of [
      'EtcdAvailable',
      'APIServerAvailable',
      'ControllerManagerAvailable',
      'SchedulerAvailable',
      'Available',
    ])
      expect(condition(ready, type), type).toBe('True');
    expect(condition(ready, 'Progressing')).toBe('False');
    expect(condition(ready, 'Degraded')).toBe('False');
    expect(ready.metadata.finalizers).toContain('clusters.kok.dev/cluster');
    expect(ready.status?.endpoint).toBe(`https://${CLUSTER}-apiserver.${ns}.svc:6443`);
    expect(ready.status?.kubeconfigSecretRef).toEqual({
      name: `${CLUSTER}-admin-kubeconfig`,
      key: 'kubeconfig',
    });
    expect(ready.status?.version).toMatchObject({
      current: 'v1.36.3',
      desired: 'v1.36.3',
      history: [{ version: 'v1.36.3', state: 'Completed' }],
    });
    expect(ready.status?.components?.etcd).toEqual({ replicas: 3, ready: 3, version: '3.6.16' });
    expect(ready.status?.components?.apiServer).toEqual({ replicas: 2, ready: 2, version: 'v1.36.3' });
    expect(Date.parse(ready.status?.certificates?.notAfter ?? '')).toBeGreaterThan(
      Date.now() + 300 * 86_400_000,
    );
    expect(ready.status?.lastOperation).toMatchObject({ type: 'Create', state: 'Succeeded', progress: 100 });
    // Each gate opened only after the previous one passed.
    const etcd = gate(ready, 'EtcdAvailable');
    const apiServer = gate(ready, 'APIServerAvailable');
    expect(apiServer.started).toBeGreaterThanOrEqual(etcd.completed);
    expect(gate(ready, 'ControllerManagerAvailable').started).toBeGreaterThanOrEqual(apiServer.completed);
    expect(gate(ready, 'SchedulerAvailable').started).toBeGreaterThanOrEqual(apiServer.completed);
  }, 90_000);

  it('owns its objects and wires PKI, kubeconfigs and flags together', async () => {
    const n = names();
    const cluster = await getCluster();
    const statefulSet = await client.get(statefulSetType, { namespace: ns, name: n.etcd });
    const apiServer = await client.get(deploymentType, { namespace: ns, name: n.apiServer });
    for (const obj of [
      statefulSet,
      apiServer,
      await client.get(serviceType, { namespace: ns, name: n.apiServerService }),
    ]) {
      expect(obj.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'Cluster',
          name: CLUSTER,
          uid: cluster.metadata.uid,
          controller: true,
        }),
      ]);
    }
    const args = apiServer.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args).toContain('--max-requests-inflight=800');
    expect(args).toContain('--feature-gates=ExampleGate=true');
    expect(args.find((a) => a.startsWith('--etcd-servers='))?.split(',')).toHaveLength(3);

    const ca = await client.get(secretType, { namespace: ns, name: n.secrets.ca });
    const serving = await client.get(secretType, { namespace: ns, name: n.secrets.apiServerServing });
    const info = describeCertificate(text(serving, 'tls.crt'));
    expect(info.dnsNames).toEqual(
      expect.arrayContaining([
        `${CLUSTER}-apiserver.${ns}.svc`,
        'api.biz.example.test',
        'kubernetes.default.svc.cluster.local',
      ]),
    );
    expect(info.ipAddresses).toEqual(expect.arrayContaining(['203.0.113.10', '10.96.0.1']));
    expect(isSignedBy(text(serving, 'tls.crt'), text(ca, 'tls.crt'))).toBe(true);

    const admin = parse(
      text(await client.get(secretType, { namespace: ns, name: n.secrets.adminKubeconfig }), 'kubeconfig'),
    ) as {
      clusters: { cluster: { server: string } }[];
    };
    expect(admin.clusters[0]?.cluster.server).toBe(cluster.status?.endpoint);
  });

  it('upgrades to the next patch in skew-safe order without touching etcd or the PKI', async () => {
    const n = names();
    const etcdBefore = await client.get(statefulSetType, { namespace: ns, name: n.etcd });
    const caBefore = await client.get(secretType, { namespace: ns, name: n.secrets.ca });
    // Watch the Deployments while the upgrade runs: no controller-manager or scheduler at the
    // new version while the apiserver is not fully at it.
    const violations: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [apiServer, kcm, scheduler] = await Promise.all(
          [n.apiServer, n.controllerManager, n.scheduler].map((name) =>
            client.get(deploymentType, { namespace: ns, name }),
          ),
        );
        const at = (d: V1Deployment | undefined) =>
          d?.spec?.template.spec?.containers[0]?.image?.endsWith(':v1.36.4');
        const rolledOut = (d: V1Deployment | undefined) =>
          at(d) &&
          d?.status?.observedGeneration === d?.metadata?.generation &&
          d?.status?.updatedReplicas === d?.spec?.replicas;
        if ((at(kcm) || at(scheduler)) && !rolledOut(apiServer))
          violations.push('controller-manager or scheduler ahead of the apiserver');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      spec: { version: 'v1.36.4' },
    });
    const upgraded = await eventually(
      'the upgrade to v1.36.4',
      async () => {
        const c = await getCluster();
        return c.status?.version?.current === 'v1.36.4' && c.status.phase === 'Ready' ? c : undefined;
      },
      60_000,
    );
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
    expect(upgraded.status?.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
    expect(upgraded.status?.version?.history?.map((h) => [h.version, h.state])).toEqual([
      ['v1.36.4', 'Completed'],
      ['v1.36.3', 'Completed'],
    ]);
    const etcd = gate(upgraded, 'EtcdAvailable');
    const apiServer = gate(upgraded, 'APIServerAvailable');
    expect(apiServer.started).toBeGreaterThanOrEqual(etcd.completed);
    expect(apiServer.completed).toBeGreaterThan(apiServer.started);
    for (const later of ['ControllerManagerAvailable', 'SchedulerAvailable'])
      expect(gate(upgraded, later).started).toBeGreaterThanOrEqual(apiServer.completed);
    for (const name of [n.apiServer, n.controllerManager, n.scheduler]) {
      const d = await client.get(deploymentType, { namespace: ns, name });
      expect(d.spec?.template.spec?.containers[0]?.image).toMatch(/:v1\.36\.4$/);
    }
    // A patch upgrade of Kubernetes leaves etcd and the CA alone.
    const etcdAfter = await client.get(statefulSetType, { namespace: ns, name: n.etcd });
    expect(etcdAfter.metadata?.generation).toBe(etcdBefore.metadata?.generation);
    expect((await client.get(secretType, { namespace: ns, name: n.secrets.ca })).data).toEqual(caBefore.data);

    const metrics = await (await fetch(`${operator.address()}/metrics`)).text();
    expect(metrics).toMatch(
      /kok_cluster_gate_duration_seconds_count\{gate="APIServerAvailable",operation="Upgrade"\} 1/,
    );
  }, 90_000);

  it('honours paused: nothing is written until it is lifted', async () => {
    const n = names();
    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      // No etcd is paired with 1.37 (etcd-versions.ts): the etcd it runs is named, so etcd stays as it is.
      spec: { paused: true, version: 'v1.37.0', etcd: { version: '3.6.16' } },
    });
    await eventually('phase Paused', async () => (await getCluster()).status?.phase === 'Paused');
    await new Promise((r) => setTimeout(r, 1_000));
    const image = async () =>
      (await client.get(deploymentType, { namespace: ns, name: n.apiServer })).spec?.template.spec
        ?.containers[0]?.image;
    expect(await image()).toBe('registry.k8s.io/kube-apiserver:v1.36.4');
    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      spec: { paused: false },
    });
    await eventually(
      'the upgrade to v1.37.0 after unpausing',
      async () => (await getCluster()).status?.version?.current === 'v1.37.0',
      60_000,
    );
    expect(await image()).toBe('registry.k8s.io/kube-apiserver:v1.37.0');
  }, 90_000);

  it('is deleted with everything it owned', async () => {
    await client.delete(clusterType, { namespace: ns, name: CLUSTER });
    await eventually(
      'the Cluster to be gone',
      async () =>
        getCluster().then(
          () => false,
          () => true,
        ),
      60_000,
    );
    const selector = clusterSelector(CLUSTER);
    const types = [
      deploymentType,
      statefulSetType,
      serviceType,
      secretType,
      persistentVolumeClaimType,
      builtinTypes.pod,
    ];
    const left = async () => {
      const lists = await Promise.all(
        types.map(async (type) => {
          const { items } = await client.list(type, { namespace: ns, labelSelector: selector });
          return items.map((o) => `${type.kind} ${o.metadata?.name}`);
        }),
      );
      return lists.flat();
    };
    // Workloads, Services and Secrets are gone before the finalizer is released.
    const owned = (await left()).filter((o) => !/^(Pod|PersistentVolumeClaim) /.test(o));
    expect(owned).toEqual([]);
    await eventually('pods and volumes to be gone', async () => (await left()).length === 0, 60_000);
  }, 120_000);
});
