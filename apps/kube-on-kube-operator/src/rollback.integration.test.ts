/**
 * A rollout that never becomes ready: kwok keeps pods whose image contains
 * `never-ready` Running but not Ready. The apiserver misses its progress
 * deadline, is rolled back to its last Available revision, the Cluster is
 * Degraded with the reason, and nothing further is rolled out until the spec
 * changes.
 */
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from './names.ts';
import { createOperator } from './operator.ts';
import type { ClusterObject } from './resource-types.ts';
import { clusterType, deploymentType } from './resource-types.ts';
import { PROGRESS_DEADLINE_ANNOTATION } from './rollback.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from './test-support.ts';

const CLUSTER = 'rb';
let client: KubeClient;
let ns: string;
let operator: Manager;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-rollback');
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
const imageOf = async (name: string) =>
  (await client.get(deploymentType, { namespace: ns, name })).spec?.template.spec?.containers[0]?.image;

describe('progress deadline', () => {
  it('rolls the apiserver back, reports Degraded with the reason and takes no further step', async () => {
    const n = clusterNames(ns, CLUSTER);
    await client.create(
      clusterType,
      smallCluster(ns, CLUSTER, volumes.storageClass, {
        annotations: { [PROGRESS_DEADLINE_ANNOTATION]: '4' },
      }),
    );
    await eventually(
      'the Cluster to be Ready',
      async () => (await getCluster()).status?.phase === 'Ready',
      60_000,
    );
    const rolledBackBefore = await client.get(deploymentType, { namespace: ns, name: n.apiServer });

    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      spec: { version: 'v1.36.4-never-ready' },
    });
    // The new apiserver pods were really started (the rollout began) before the deadline struck.
    await eventually(
      'the apiserver to roll to the never-ready build',
      async () => (await imageOf(n.apiServer))?.endsWith(':v1.36.4-never-ready'),
      30_000,
    );
    const degraded = await eventually(
      'Degraded with ProgressDeadlineExceeded',
      async () => {
        const c = await getCluster();
        return conditionOf(c, 'Degraded')?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
      },
      30_000,
    );
    expect(degraded.status?.phase).toBe('Degraded');
    expect(conditionOf(degraded, 'Degraded')?.status).toBe('True');
    expect(conditionOf(degraded, 'Degraded')?.message).toMatch(
      /apiServer did not become Available at v1\.36\.4-never-ready within 4 s .*rolled back/,
    );
    expect(conditionOf(degraded, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    expect(degraded.status?.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Failed' });
    expect(degraded.status?.version?.current).toBe('v1.36.3');

    // The apiserver runs its last Available revision again, and serves.
    expect(await imageOf(n.apiServer)).toBe('registry.k8s.io/kube-apiserver:v1.36.3');
    const back = await eventually(
      'the rolled-back apiserver to be Available',
      async () => {
        const d = await client.get(deploymentType, { namespace: ns, name: n.apiServer });
        const s = d.status;
        return s?.observedGeneration === d.metadata?.generation &&
          s?.updatedReplicas === 2 &&
          s?.replicas === 2 &&
          s?.availableReplicas === 2
          ? d
          : undefined;
      },
      30_000,
    );
    expect(back.spec?.template.metadata?.annotations).toEqual(
      rolledBackBefore.spec?.template.metadata?.annotations,
    );
    await eventually(
      'Available again',
      async () => conditionOf(await getCluster(), 'Available')?.status === 'True',
    );

    // No further step: controller-manager and scheduler stay where they were, and so does the apiserver.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await imageOf(n.controllerManager)).toBe('registry.k8s.io/kube-controller-manager:v1.36.3');
    expect(await imageOf(n.scheduler)).toBe('registry.k8s.io/kube-scheduler:v1.36.3');
    expect(await imageOf(n.apiServer)).toBe('registry.k8s.io/kube-apiserver:v1.36.3');
    expect(conditionOf(await getCluster(), 'Degraded')?.reason).toBe('ProgressDeadlineExceeded');

    const { items: events } = await client.list(builtinTypes.event, { namespace: ns });
    const reasons = events.filter((e) => e.regarding?.name === CLUSTER).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['GatePassed', 'UpgradeStep', 'RolledBack']));
  }, 120_000);

  it('moves on once the spec changes to a version that works', async () => {
    await client.patch(clusterType, { namespace: ns, name: CLUSTER }, PatchType.merge, {
      spec: { version: 'v1.36.4' },
    });
    const ready = await eventually(
      'the upgrade to v1.36.4',
      async () => {
        const c = await getCluster();
        return c.status?.phase === 'Ready' && c.status.version?.current === 'v1.36.4' ? c : undefined;
      },
      60_000,
    );
    expect(conditionOf(ready, 'Degraded')?.status).toBe('False');
    expect(ready.status?.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
  }, 90_000);
});
