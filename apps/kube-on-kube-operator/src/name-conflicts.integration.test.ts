/**
 * Objects of the names a Cluster needs, made by someone else, are neither
 * adopted nor overwritten: the Cluster is Degraded with NameConflict naming
 * them, a Warning Event says so, the operator looks again with a growing delay,
 * and it carries on by itself once they are gone. One Cluster on kwok meets a
 * foreign etcd volume claim, a foreign Service and (once Ready) a foreign
 * Deployment with the operator's own labels.
 */
import type { V1Deployment, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, controllerOf, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterLabels, clusterNames } from './names.ts';
import { createOperator } from './operator.ts';
import type { ClusterObject } from './resource-types.ts';
import { clusterType, deploymentType, persistentVolumeClaimType, serviceType } from './resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from './test-support.ts';

const CLUSTER = 'named';
let client: KubeClient;
let ns: string;
let operator: Manager;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
const n = () => clusterNames(ns, CLUSTER);

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-names');
  volumes = await provisionVolumes(client, 1);
  operator = createOperator({
    kubeConfig: sharedKubeConfig(),
    namespace: ns,
    http: false,
    logger: pino({ level: 'warn' }),
  });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await volumes?.remove();
  client?.close();
});

const getCluster = () => client.get(clusterType, { namespace: ns, name: CLUSTER });
const conditionOf = (c: ClusterObject, type: string) => c.status?.conditions?.find((x) => x.type === type);
const nameConflict = (naming: string) =>
  eventually(`Degraded with NameConflict naming ${naming}`, async () => {
    const c = await getCluster();
    const degraded = conditionOf(c, 'Degraded');
    return degraded?.status === 'True' &&
      degraded.reason === 'NameConflict' &&
      degraded.message.startsWith(naming)
      ? c
      : undefined;
  });
const ready = (what: string) =>
  eventually(
    what,
    async () => {
      const c = await getCluster();
      return c.status?.phase === 'Ready' && conditionOf(c, 'Degraded')?.status === 'False' ? c : undefined;
    },
    90_000,
  );
const nameConflictEvents = async () =>
  (await client.list(builtinTypes.event, { namespace: ns })).items.filter(
    (e) => e.regarding?.name === CLUSTER && e.reason === 'NameConflict',
  );
/** Reconciles the conflict caused: the first Event plus its repeats. */
const nameConflictReconciles = async () =>
  (await nameConflictEvents()).reduce((sum, e) => sum + (e.series?.count ?? 1), 0);
const annotate = (annotations: Record<string, string | null>) =>
  client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
    metadata: { annotations },
  });
const settle = () => new Promise((r) => setTimeout(r, 3_000));

describe('objects of derived names that another owner controls', () => {
  it('holds the Cluster on a foreign etcd volume claim, then on a foreign Service, and never touches them', async () => {
    const claim: V1PersistentVolumeClaim = {
      metadata: { name: n().etcdClaim(0), namespace: ns, labels: { app: 'someone-elses-database' } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'none-such',
        resources: { requests: { storage: '1Gi' } },
      },
    };
    const service: V1Service = {
      metadata: { name: n().apiServerService, namespace: ns },
      spec: { ports: [{ name: 'web', port: 80 }], selector: { app: 'web' } },
    };
    await client.create(persistentVolumeClaimType, claim);
    const serviceBefore = await client.create(serviceType, service);
    await client.create(clusterType, smallCluster(ns, CLUSTER, volumes.storageClass));

    const held = await nameConflict(`PersistentVolumeClaim ${n().etcdClaim(0)} (no controller)`);
    expect(conditionOf(held, 'Degraded')?.message).toMatch(/neither adopts nor overwrites/);
    expect(held.status?.phase).toBe('Degraded');
    expect(await nameConflictEvents()).not.toEqual([]);
    // Nothing was written: no StatefulSet that would mount the stranger's volume.
    expect(
      await client
        .get(builtinTypes.deployment, { namespace: ns, name: n().apiServer })
        .catch(() => undefined),
    ).toBeUndefined();

    // Backing off, not retrying four times a second.
    const before = await nameConflictReconciles();
    await new Promise((r) => setTimeout(r, 10_000));
    expect((await nameConflictReconciles()) - before).toBeLessThanOrEqual(8);

    await client.delete(persistentVolumeClaimType, { namespace: ns, name: claim.metadata?.name ?? '' });
    await nameConflict(`Service ${n().apiServerService} (no controller)`);
    await settle();
    const serviceAfter = await client.get(serviceType, { namespace: ns, name: n().apiServerService });
    expect(serviceAfter.metadata?.resourceVersion).toBe(serviceBefore.metadata?.resourceVersion);
    expect(serviceAfter.metadata?.ownerReferences).toBeUndefined();
    expect(serviceAfter.spec?.ports).toEqual([expect.objectContaining({ name: 'web', port: 80 })]);

    await client.delete(serviceType, { namespace: ns, name: n().apiServerService });
    const up = await ready('Ready once the stranger Service is gone');
    const ours = await client.get(serviceType, { namespace: ns, name: n().apiServerService });
    expect(controllerOf(ours)?.uid).toBe(up.metadata.uid);
  }, 180_000);

  it('does not adopt a Deployment that carries the operator’s labels but no controller of this Cluster', async () => {
    await annotate({ 'clusters.kok.dev/paused': 'true' });
    await eventually('Paused', async () => (await getCluster()).status?.phase === 'Paused');
    await client.delete(deploymentType, { namespace: ns, name: n().scheduler });
    const stranger: V1Deployment = {
      metadata: { name: n().scheduler, namespace: ns, labels: clusterLabels(CLUSTER, 'kube-scheduler') },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'stranger' } },
        template: {
          metadata: { labels: { app: 'stranger' } },
          spec: { containers: [{ name: 'main', image: 'registry.example/stranger:1' }] },
        },
      },
    };
    const created = await eventually('the stranger Deployment to be created', () =>
      client.create(deploymentType, stranger).catch(() => undefined),
    );
    await annotate({ 'clusters.kok.dev/paused': null });

    await nameConflict(`Deployment ${n().scheduler} (no controller)`);
    await settle();
    const untouched = await client.get(deploymentType, { namespace: ns, name: n().scheduler });
    expect(untouched.metadata?.ownerReferences).toBeUndefined();
    expect(untouched.spec?.template.spec?.containers.map((c) => c.image)).toEqual([
      'registry.example/stranger:1',
    ]);
    expect(untouched.metadata?.generation).toBe(created.metadata?.generation);

    await client.delete(deploymentType, { namespace: ns, name: n().scheduler });
    const up = await ready('Ready once the stranger Deployment is gone');
    const ours = await client.get(deploymentType, { namespace: ns, name: n().scheduler });
    expect(controllerOf(ours)?.uid).toBe(up.metadata.uid);
  }, 180_000);
});
