/**
 * ClusterRollout against the real apiserver, kwok and the whole operator: 10
 * Clusters, waves [1], [30%], [rest]. One cluster of the second wave cannot
 * start its new apiserver pods (an admission policy refuses them), misses its
 * progress deadline and rolls back: the rollout stops naming it and the third
 * wave is never touched. Then a rollout with that cause gone takes all 10 to
 * the version, pausing after the canary and going on once a person resumes
 * it, while the operator process is SIGKILLed at the pause and as each later
 * wave starts. Last, a rollout that carries node-pool versions writes them
 * onto each Cluster with the version and counts a cluster succeeded only once
 * its NodePools are reported up to date.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { builtinTypes, isConflict, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperatorProcess } from '../operator-process.ts';
import { startOperatorProcess } from '../operator-process.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType } from '../resource-types.ts';
import { PROGRESS_DEADLINE_ANNOTATION } from '../rollback.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';
import { readRecord, ROLLOUT_RECORD_ANNOTATION } from '@kok/api';
import type { ClusterRolloutObject } from './reconcile-rollout.ts';
import { clusterRolloutType, PAUSED_AFTER_WAVE_ANNOTATION } from './reconcile-rollout.ts';

const FLEET = Array.from({ length: 10 }, (_, i) => `fleet-${i}`);
const FAILING = 'fleet-2'; // second wave: fleet-1 and fleet-2
const WAVES = [
  { name: 'canary', count: 1, bakeSeconds: 1 },
  { name: 'early', percent: 30 },
  { name: 'rest', percent: 100 },
];

const policyType = resourceType(
  'admissionregistration.k8s.io/v1',
  'ValidatingAdmissionPolicy',
  'validatingadmissionpolicies',
  false,
);
const bindingType = resourceType(
  'admissionregistration.k8s.io/v1',
  'ValidatingAdmissionPolicyBinding',
  'validatingadmissionpolicybindings',
  false,
);

let client: KubeClient;
let ns: string;
let operator: OperatorProcess | undefined;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
let policy: string;

/** The operator as it runs in its Deployment: a process of its own, which the test may SIGKILL. */
const startOperator = async () => {
  operator = await startOperatorProcess(sharedKubeconfigPath(), [
    `--namespace=${ns}`,
    '--metrics-bind-address=0',
    '--max-concurrent-reconciles=8',
    '--log-level=info', // its 'running' line says it is up
  ]);
};

/** Kills the operator without warning and starts the next one, which carries on from what the API says. */
const killAndReplaceOperator = async () => {
  const killed = operator;
  killed?.child.kill('SIGKILL');
  await killed?.exited;
  expect(killed?.child.signalCode).toBe('SIGKILL');
  await startOperator();
};

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-cluster-rollout');
  volumes = await provisionVolumes(client, FLEET.length);
  policy = `${ns}-deny-${FAILING}`;
  // The failing cluster's pods at the new version are refused, so its apiserver never becomes Available there.
  await client.create(policyType, {
    metadata: { name: policy },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
        ],
      },
      validations: [
        {
          expression: `!(has(object.metadata.labels) && object.metadata.labels['clusters.kok.dev/cluster'] == '${FAILING}' && object.spec.containers.exists(c, c.image.endsWith(':v1.36.4')))`,
          message: `${FAILING} may not run v1.36.4 in this test`,
        },
      ],
    },
  } as KubernetesObject);
  await client.create(bindingType, {
    metadata: { name: policy },
    spec: {
      policyName: policy,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
    },
  } as KubernetesObject);
  for (const name of FLEET) {
    const cluster = smallCluster(ns, name, volumes.storageClass, {
      ...(name === FAILING ? { annotations: { [PROGRESS_DEADLINE_ANNOTATION]: '5' } } : {}),
    });
    await client.create(clusterType, {
      ...cluster,
      metadata: { ...cluster.metadata, labels: { fleet: 'test' } },
      spec: {
        ...cluster.spec,
        controlPlane: { ...cluster.spec.controlPlane, apiServer: { replicas: 1 } },
        nodeOperator: { enabled: false },
      },
    });
  }
  await startOperator();
  await allClusters('every Cluster Ready at v1.36.3', (c) => isReadyAt(c, 'v1.36.3'), 150_000);
}, 240_000);

afterAll(async () => {
  operator?.child.kill('SIGTERM');
  await operator?.exited;
  await client?.delete(bindingType, { name: policy }).catch(() => undefined);
  await client?.delete(policyType, { name: policy }).catch(() => undefined);
  await volumes?.remove();
  client?.close();
});

const listClusters = async () => (await client.list(clusterType, { namespace: ns })).items;
const clusterNamed = (clusters: ClusterObject[], name: string) =>
  clusters.find((c) => c.metadata.name === name) as ClusterObject;
const isReadyAt = (c: ClusterObject, version: string) =>
  c.status?.phase === 'Ready' && c.status.version?.current === version && c.spec.version === version;
const getRollout = (name: string) => client.get(clusterRolloutType, { namespace: ns, name });

async function allClusters(what: string, ok: (c: ClusterObject) => boolean, timeoutMs: number) {
  let last: ClusterObject[] = [];
  try {
    return await eventually(
      what,
      async () => {
        last = await listClusters();
        return last.length === FLEET.length && last.every(ok) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    const behind = last
      .filter((c) => !ok(c))
      .map((c) => `${c.metadata.name}: ${c.status?.lastOperation?.message}`);
    throw new Error(`${(error as Error).message}\nnot there: ${behind.join('\n')}`, { cause: error });
  }
}

function rollout(
  name: string,
  version: string,
  bakeSeconds: number,
  waves: typeof WAVES = WAVES,
): ClusterRolloutObject {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'ClusterRollout',
    metadata: { name, namespace: ns },
    spec: {
      clusterSelector: { matchLabels: { fleet: 'test' } },
      version,
      waves,
      bakeSeconds,
      maxFailed: 0,
    },
  };
}

async function waitForPhase(name: string, phase: string, timeoutMs: number): Promise<ClusterRolloutObject> {
  let last: ClusterRolloutObject | undefined;
  try {
    return await eventually(
      `ClusterRollout ${name} ${phase}`,
      async () => {
        last = await getRollout(name);
        return last.status?.phase === phase ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nlast status: ${JSON.stringify(last?.status)}`, {
      cause: error,
    });
  }
}

describe('ClusterRollout', () => {
  it('stops at the failed cluster of the second wave, naming it, and leaves the third wave alone', async () => {
    await client.create(clusterRolloutType, rollout('to-v1-36-4', 'v1.36.4', 2));
    const failed = await waitForPhase('to-v1-36-4', 'Failed', 150_000);

    expect(failed.status?.message).toMatch(
      /^1 cluster failed at v1\.36\.4 \(maxFailed 0\): fleet-2 \(apiServer did not become Available at v1\.36\.4/,
    );
    expect(failed.status).toMatchObject({ clusters: 10, failedClusters: 1 });
    expect(failed.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'FailureBudgetExceeded',
    });
    const waves = failed.status?.waves ?? [];
    expect(waves.map((w) => [w.name, w.clusters])).toEqual([
      ['canary', 1],
      ['early', 2],
      ['rest', 7],
    ]);
    expect(waves[0]).toMatchObject({ state: 'Succeeded', updated: 1 });
    expect(waves[1]?.failed).toBe(1);
    expect(waves[2]).toMatchObject({ state: 'Pending', updated: 0, upgrading: 0, failed: 0 });

    const clusters = await listClusters();
    const fail = clusterNamed(clusters, FAILING);
    expect(fail.status?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe(
      'ProgressDeadlineExceeded',
    );
    expect(readRecord(fail.metadata.annotations)).toMatchObject({ wave: 'early', version: 'v1.36.4' });
    expect(readRecord(fail.metadata.annotations)?.failedAt).toBeDefined();
    // The second wave started only once the canary had been Available its bake (2 s) and the wave's own (1 s).
    const canary = clusterNamed(clusters, 'fleet-0');
    const canaryDone = Date.parse(canary.status?.version?.history?.[0]?.completionTime ?? '');
    const earlyStart = readRecord(clusterNamed(clusters, 'fleet-1').metadata.annotations)?.startedAt ?? 0;
    expect(earlyStart).toBeGreaterThanOrEqual(canaryDone + 3_000 - 1_000); // whole-second timestamps
    expect(clusterNamed(clusters, 'fleet-1').spec.version).toBe('v1.36.4');

    // Nothing of the third wave moves, now or a little later.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const c of await listClusters()) {
      if (['fleet-0', 'fleet-1', 'fleet-2'].includes(c.metadata.name ?? '')) continue;
      expect(c.spec.version, c.metadata.name).toBe('v1.36.3');
      expect(c.metadata.annotations?.[ROLLOUT_RECORD_ANNOTATION], c.metadata.name).toBeUndefined();
    }
    // RolloutFailed follows the status write that said Failed.
    const events = await eventually('a RolloutFailed Event', async () => {
      const { items } = await client.list(builtinTypes.event, { namespace: ns });
      return items.some((e) => e.reason === 'RolloutFailed') ? items : undefined;
    });
    const reasons = events.filter((e) => e.regarding?.kind === 'ClusterRollout').map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['WaveStarted', 'WaveFinished', 'ClusterFailed', 'RolloutFailed']),
    );
    const failedNote = events.find((e) => e.reason === 'RolloutFailed')?.note;
    expect(failedNote).toContain(FAILING);
  }, 200_000);

  it('takes all 10 clusters to the version, wave by wave, pausing after the canary until resumed, across operator SIGKILLs', async () => {
    // The cause is gone; the failed rollout is deleted so it no longer holds its clusters.
    await client.delete(bindingType, { name: policy });
    await client.delete(policyType, { name: policy });
    await client.delete(clusterRolloutType, { namespace: ns, name: 'to-v1-36-4' });
    await client.patch(clusterType, { namespace: ns, name: FAILING }, PatchType.merge, {
      metadata: { annotations: { [PROGRESS_DEADLINE_ANNOTATION]: null } },
    });
    const pauseAfterCanary = WAVES.map((w) => (w.name === 'canary' ? { ...w, pauseAfter: true } : w));
    await client.create(clusterRolloutType, rollout('to-v1-36-5', 'v1.36.5', 1, pauseAfterCanary));

    // After the canary the operator pauses the rollout itself; nothing of the next wave starts.
    const held = await eventually(
      'the rollout paused after the canary',
      async () => {
        const r = await getRollout('to-v1-36-5');
        const paused = r.status?.conditions?.find((c) => c.type === 'Paused');
        return r.status?.phase === 'Paused' && paused?.reason === 'PausedAfterWave' ? r : undefined;
      },
      90_000,
    );
    expect(held.spec.paused).toBe(true);
    expect(held.metadata.annotations?.[PAUSED_AFTER_WAVE_ANNOTATION]).toBe('v1.36.5/0');
    expect(held.status?.waves?.[0]).toMatchObject({ name: 'canary', state: 'Succeeded', updated: 1 });
    const moved = (await listClusters()).filter((c) => c.spec.version === 'v1.36.5');
    expect(moved.map((c) => c.metadata.name)).toEqual(['fleet-0']);

    // A new operator takes over from what the API says, and a person resumes the rollout.
    await killAndReplaceOperator();
    await client.patch(clusterRolloutType, { namespace: ns, name: 'to-v1-36-5' }, PatchType.merge, {
      spec: { paused: false },
    });
    // Killed again as each later wave starts: the clusters it told and the records on them are all that's kept.
    for (const wave of ['early', 'rest']) {
      await eventually(
        `a cluster of wave ${wave} started`,
        async () =>
          (await listClusters()).some(
            (c) => readRecord(c.metadata.annotations)?.wave === wave && c.spec.version === 'v1.36.5',
          ),
        90_000,
      );
      await killAndReplaceOperator();
    }

    const done = await waitForPhase('to-v1-36-5', 'Succeeded', 150_000);
    expect(done.status).toMatchObject({
      clusters: 10,
      updatedClusters: 10,
      failedClusters: 0,
      upgradingClusters: 0,
    });
    expect(done.status?.waves?.map((w) => [w.name, w.state, w.updated])).toEqual([
      ['canary', 'Succeeded', 1],
      ['early', 'Succeeded', 2],
      ['rest', 'Succeeded', 7],
    ]);
    const clusters = await allClusters(
      'every Cluster Ready at v1.36.5',
      (c) => isReadyAt(c, 'v1.36.5'),
      60_000,
    );
    // Each wave started after the one before had finished: record start times follow the waves.
    const startOf = (name: string) =>
      readRecord(clusterNamed(clusters, name).metadata.annotations)?.startedAt ?? 0;
    const waveOf = (name: string) => readRecord(clusterNamed(clusters, name).metadata.annotations)?.wave;
    expect(FLEET.map(waveOf)).toEqual(['canary', 'early', 'early', ...Array(7).fill('rest')]);
    expect(Math.min(...FLEET.slice(3).map(startOf))).toBeGreaterThan(
      Math.max(startOf('fleet-1'), startOf('fleet-2')),
    );
    expect(Math.min(startOf('fleet-1'), startOf('fleet-2'))).toBeGreaterThan(startOf('fleet-0'));
    // The Event follows the status write that said Succeeded.
    await eventually('a RolloutSucceeded Event', async () => {
      const { items: events } = await client.list(builtinTypes.event, { namespace: ns });
      return events.some((e) => e.reason === 'RolloutSucceeded' && e.regarding?.name === 'to-v1-36-5');
    });
  }, 300_000);

  it('writes its node-pool versions onto each Cluster and counts a cluster succeeded only once its NodePools are up to date', async () => {
    const components = [{ name: 'kubelet', version: 'v1.36.5' }];
    const withPools = rollout('pools-v1-36-5', 'v1.36.5', 1, [
      { name: 'canary', count: 1, bakeSeconds: 1 },
      { name: 'rest', percent: 100 },
    ]);
    withPools.spec.nodePools = { components };
    await client.create(clusterRolloutType, withPools);

    // The clusters are at v1.36.5 already: the canary is started for its pools, and the operator's node tier says they wait.
    const canary = await eventually(
      'the canary told the node-pool versions, its NodePoolsUpToDate False',
      async () => {
        const c = clusterNamed(await listClusters(), 'fleet-0');
        const upToDate = c.status?.conditions?.find((x) => x.type === 'NodePoolsUpToDate');
        return c.spec.nodePools && upToDate?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    expect(canary.spec).toMatchObject({ version: 'v1.36.5', nodePools: { components } });
    expect(readRecord(canary.metadata.annotations)).toMatchObject({
      rollout: 'pools-v1-36-5',
      wave: 'canary',
    });
    // Its control plane is Available at the version, but its pools are not up to date: it is not done, nothing else starts.
    await new Promise((r) => setTimeout(r, 4_000));
    const waiting = await getRollout('pools-v1-36-5');
    expect(waiting.status).toMatchObject({ phase: 'Progressing', updatedClusters: 0, upgradingClusters: 1 });
    const others = (await listClusters()).filter((c) => c.metadata.name !== 'fleet-0');
    expect(others.filter((c) => c.spec.nodePools).map((c) => c.metadata.name)).toEqual([]);

    // No biz apiserver runs on kwok, so no NodePools: the test reports each started cluster's pools up to date
    // as the operator's node tier would once the node-operator rolled them out (the node tier keeps a True
    // condition of the Cluster's generation as it is).
    const reportedAt = Date.now();
    const done = await eventually(
      'the rollout Succeeded once every cluster’s pools were reported up to date',
      async () => {
        for (const c of await listClusters())
          if (c.spec.nodePools && !poolsUpToDate(c)) await reportPoolsUpToDate(c);
        const r = await getRollout('pools-v1-36-5');
        return r.status?.phase === 'Succeeded' ? r : undefined;
      },
      120_000,
    );
    expect(done.status).toMatchObject({ clusters: 10, updatedClusters: 10, failedClusters: 0 });
    const clusters = await listClusters();
    for (const c of clusters) expect(c.spec.nodePools, c.metadata.name).toEqual({ components });
    // The rest waited for the canary's pools.
    const restStarts = FLEET.slice(1).map(
      (name) => readRecord(clusterNamed(clusters, name).metadata.annotations)?.startedAt ?? 0,
    );
    expect(Math.min(...restStarts)).toBeGreaterThanOrEqual(reportedAt - 1_000); // whole-second timestamps
  }, 200_000);
});

const poolsUpToDate = (c: ClusterObject) =>
  c.status?.conditions?.some(
    (x) =>
      x.type === 'NodePoolsUpToDate' && x.status === 'True' && x.observedGeneration === c.metadata.generation,
  ) ?? false;

/** What the node tier writes once a Cluster's NodePools run spec.nodePools; a conflict leaves it to the next look. */
async function reportPoolsUpToDate(c: ClusterObject): Promise<void> {
  const conditions = (c.status?.conditions ?? []).filter((x) => x.type !== 'NodePoolsUpToDate');
  try {
    await client.mergePatchStatus(
      clusterType,
      { namespace: ns, name: c.metadata.name ?? '' },
      {
        metadata: { resourceVersion: c.metadata.resourceVersion },
        status: {
          nodePools: { pools: 0, upToDate: 0 },
          conditions: [
            ...conditions,
            {
              type: 'NodePoolsUpToDate',
              status: 'True',
              reason: 'UpToDate',
              message: 'the biz-cluster has no NodePools',
              observedGeneration: c.metadata.generation,
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
            },
          ],
        },
      },
    );
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}
