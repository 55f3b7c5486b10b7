/**
 * `kubectl kok clusterrollout plan` against what the operator then does, on
 * the real apiserver and kwok: four Clusters come up, the plugin (run as a
 * process, the way a person runs it) plans a ClusterRollout from a file, the
 * rollout is applied, and the operator moves every cluster in the wave and
 * the order the plan said.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecord } from '@kok/api';
import { KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { OperatorProcess } from '../operator-process.ts';
import { startOperatorProcess } from '../operator-process.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType } from '../resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';
import type { ClusterRolloutObject } from './reconcile-rollout.ts';
import { clusterRolloutType } from './reconcile-rollout.ts';

/** The plugin's entry point, run with this Node. */
const KUBECTL_KOK = join(import.meta.dirname, '../../../kubectl-kok/src/main.ts');
// Created out of name order: the waves fill in name order all the same.
const FLEET = ['c-delta', 'c-alpha', 'c-charlie', 'c-bravo'];

/** What the plugin prints with -o json (the fields this test reads). */
interface PlanJson {
  phase: string;
  message: string;
  startNow: string[];
  waves: { index: number; name: string; clusters: { cluster: string; from: string; to: string }[] }[];
}

let client: KubeClient;
let ns: string;
let operator: OperatorProcess | undefined;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
let workDir: string;

function plugin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [KUBECTL_KOK, ...args, '--kubeconfig', sharedKubeconfigPath()],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function planJson(...args: string[]): Promise<PlanJson> {
  const { code, stdout, stderr } = await plugin('clusterrollout', 'plan', ...args, '-n', ns, '-o', 'json');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as PlanJson;
}

const rollout: ClusterRolloutObject = {
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'ClusterRollout',
  metadata: { name: 'to-v1-36-4' },
  spec: {
    clusterSelector: { matchLabels: { fleet: 'plan' } },
    version: 'v1.36.4',
    waves: [
      { name: 'canary', count: 1, bakeSeconds: 1 },
      { name: 'early', percent: 50 },
    ],
    bakeSeconds: 1,
    maxFailed: 0,
  },
};

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-rollout-plan');
  volumes = await provisionVolumes(client, FLEET.length);
  workDir = mkdtempSync(join(tmpdir(), 'kok-rollout-plan-'));
  for (const name of FLEET) {
    const cluster = smallCluster(ns, name, volumes.storageClass);
    await client.create(clusterType, {
      ...cluster,
      metadata: { ...cluster.metadata, labels: { fleet: 'plan' } },
      spec: {
        ...cluster.spec,
        controlPlane: { ...cluster.spec.controlPlane, apiServer: { replicas: 1 } },
        nodeOperator: { enabled: false },
      },
    });
  }
  operator = await startOperatorProcess(sharedKubeconfigPath(), [
    `--namespace=${ns}`,
    '--metrics-bind-address=0',
    '--max-concurrent-reconciles=4',
    '--log-level=info',
  ]);
  await eventually(
    'every Cluster Ready at v1.36.3',
    async () => {
      const { items } = await client.list(clusterType, { namespace: ns });
      return items.length === FLEET.length && items.every((c) => isReadyAt(c, 'v1.36.3'));
    },
    150_000,
  );
}, 240_000);

afterAll(async () => {
  operator?.child.kill('SIGTERM');
  await operator?.exited;
  await volumes?.remove();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  client?.close();
});

const isReadyAt = (c: ClusterObject, version: string) =>
  c.status?.phase === 'Ready' && c.status.version?.current === version && c.spec.version === version;

describe('kubectl kok clusterrollout plan', () => {
  it('plans the waves, members and order the operator then runs', async () => {
    const file = join(workDir, 'rollout.yaml');
    writeFileSync(file, stringify({ ...rollout, metadata: { ...rollout.metadata, namespace: ns } }));
    const planned = await planJson('-f', file);

    expect(planned.waves.map((w) => [w.name, w.clusters.map((c) => c.cluster)])).toEqual([
      ['canary', ['c-alpha']],
      ['early', ['c-bravo']],
      ['(remaining)', ['c-charlie', 'c-delta']],
    ]);
    expect(planned.waves.flatMap((w) => w.clusters.map((c) => `${c.from}→${c.to}`))).toEqual(
      Array(FLEET.length).fill('v1.36.3→v1.36.4'),
    );
    expect(planned.startNow).toEqual(['c-alpha']);

    await client.create(clusterRolloutType, { ...rollout, metadata: { ...rollout.metadata, namespace: ns } });
    const done = await eventually(
      'the ClusterRollout Succeeded',
      async () => {
        const r = await client.get(clusterRolloutType, { namespace: ns, name: 'to-v1-36-4' });
        return r.status?.phase === 'Succeeded' ? r : undefined;
      },
      150_000,
    );

    // The operator's own account: its status per wave, and the wave and start time it recorded on each cluster.
    expect(done.status?.waves?.map((w) => [w.name, w.clusters])).toEqual(
      planned.waves.map((w) => [w.name, w.clusters.length]),
    );
    const { items } = await client.list(clusterType, { namespace: ns });
    const record = (name: string) =>
      readRecord(items.find((c) => c.metadata.name === name)?.metadata.annotations);
    for (const wave of planned.waves)
      for (const { cluster } of wave.clusters) {
        expect(record(cluster)?.wave, cluster).toBe(wave.name);
        expect(items.find((c) => c.metadata.name === cluster)?.spec.version).toBe('v1.36.4');
      }
    // Each wave started only after every cluster of the wave before it had started.
    const starts = planned.waves.map((w) => w.clusters.map((c) => record(c.cluster)?.startedAt ?? NaN));
    for (let i = 1; i < starts.length; i++)
      expect(Math.min(...(starts[i] ?? []))).toBeGreaterThan(Math.max(...(starts[i - 1] ?? [])));

    // Planned again, the finished rollout keeps each cluster in its recorded wave and starts nothing more.
    const after = await planJson('to-v1-36-4');
    expect(after.phase).toBe('Succeeded');
    expect(after.startNow).toEqual([]);
    expect(after.waves.map((w) => [w.name, w.clusters.map((c) => c.cluster)])).toEqual(
      planned.waves.map((w) => [w.name, w.clusters.map((c) => c.cluster)]),
    );
  }, 200_000);
});
