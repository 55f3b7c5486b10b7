// Both operators run as processes against the local control plane with a
// Cluster, a NodePool with a Machine and a RemediationPolicy to work on; a real
// prometheus (Debian's) scrapes them every second and evaluates the charts'
// alert rules. Every metric the dashboards query must have a series, and every
// rule must evaluate without error.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, StorageV1Api } from '@kubernetes/client-node';
import { eventually, kwokNodeAnnotation } from '@kok/testing';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, repositoryRoot } from './helm.ts';
import {
  alertsPath,
  dashboardMetricNames,
  metricNames,
  observedCharts,
  prometheusTool,
  readAlerts,
} from './observability.ts';
import type { ObservedChart } from './observability.ts';
import { freePort, OperatorProcess } from './operator-process.ts';

const kubeConfig = sharedKubeConfig();
const core = kubeConfig.makeApiClient(CoreV1Api);
const storage = kubeConfig.makeApiClient(StorageV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const nodes = { group: 'nodes.kok.dev', version: 'v1alpha1' };
const clusters = { group: 'clusters.kok.dev', version: 'v1alpha1', plural: 'clusters' };

const id = uniqueName('obs');
const selector = `kok-observability=${id}`;
const namespace = id;
const storageClass = `${id}-etcd`;
const operators = new Map<ObservedChart, { process: OperatorProcess; port: number }>();
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
let prometheusOutput = '';
let workDir = '';
// Prometheus scrapes as a ServiceAccount allowed to get /metrics, as the charts' ServiceMonitor does.
const metricsReader = `${id}-metrics-reader`;
let tokenFile = '';

async function prometheusApi<T>(path: string): Promise<T> {
  const response = await fetch(`${prometheusUrl}${path}`);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
  return body.data;
}

async function createObjects(): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // etcd's claim needs a volume: the shared control plane has no provisioner.
  await storage.createStorageClass({
    body: {
      metadata: { name: storageClass },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'Immediate',
      reclaimPolicy: 'Retain',
    },
  });
  await core.createPersistentVolume({
    body: {
      metadata: { name: storageClass },
      spec: {
        storageClassName: storageClass,
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/tmp/${storageClass}` },
      },
    },
  });
  await custom.createNamespacedCustomObject({
    ...clusters,
    namespace,
    body: {
      apiVersion: 'clusters.kok.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'observed' },
      spec: {
        version: 'v1.36.3',
        // Scheduled snapshots give the last-snapshot series the snapshot alert reads (0: none yet; no etcd
        // answers here, so none is taken).
        etcd: {
          replicas: 1,
          storage: { size: '1Gi', storageClassName: storageClass },
          backup: { intervalMinutes: 60 },
        },
        controlPlane: {
          apiServer: { replicas: 1 },
          controllerManager: { replicas: 1 },
          scheduler: { replicas: 1 },
        },
      },
    },
  });

  const labels = { 'kok-observability': id, 'nodes.kok.dev/pool': id };
  await core.createNode({
    body: {
      metadata: { name: id, labels, annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value } },
      // Nothing of the Cluster lands on it: the node-operator may cordon it.
      spec: { taints: [{ key: 'kok-observability', value: id, effect: 'NoSchedule' }] },
    },
  });
  await custom.createClusterCustomObject({
    ...nodes,
    plural: 'machines',
    body: {
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: id, labels },
      spec: { pool: id },
    },
  });
  await custom.createClusterCustomObject({
    ...nodes,
    plural: 'nodepools',
    body: {
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'NodePool',
      metadata: { name: id, labels: { 'kok-observability': id } },
      spec: { selector: { matchLabels: { 'nodes.kok.dev/pool': id } }, template: { components: [] } },
    },
  });
  await custom.createClusterCustomObject({
    ...nodes,
    plural: 'remediationpolicies',
    body: {
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'RemediationPolicy',
      metadata: { name: id, labels: { 'kok-observability': id } },
      spec: {
        selector: { matchLabels: { 'nodes.kok.dev/pool': id } },
        unhealthyConditions: [{ type: 'Ready', status: 'False', duration: '5m' }],
        actions: [{ type: 'Cordon' }, { type: 'Reboot' }],
      },
    },
  });
}

/** A token of ServiceAccount `prometheus` in the test namespace, bound to get /metrics. */
async function scraperToken(): Promise<string> {
  for (const args of [
    ['create', 'serviceaccount', 'prometheus', '-n', namespace],
    ['create', 'clusterrole', metricsReader, '--non-resource-url=/metrics', '--verb=get'],
    [
      'create',
      'clusterrolebinding',
      metricsReader,
      `--clusterrole=${metricsReader}`,
      `--serviceaccount=${namespace}:prometheus`,
    ],
  ]) {
    const result = await kubectl(...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  }
  const issued = await kubectl('create', 'token', 'prometheus', '-n', namespace, '--duration', '1h');
  if (issued.code !== 0) throw new Error(issued.stderr);
  return issued.stdout.trim();
}

async function startPrometheus(): Promise<void> {
  workDir = mkdtempSync(join(tmpdir(), 'kok-prometheus-'));
  tokenFile = join(workDir, 'token');
  writeFileSync(tokenFile, await scraperToken(), { mode: 0o600 });
  const config = join(workDir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: observedCharts.map(alertsPath),
      scrape_configs: [...operators].map(([chart, { port }]) => ({
        job_name: chart,
        static_configs: [{ targets: [`127.0.0.1:${port}`] }],
        authorization: { type: 'Bearer', credentials_file: tokenFile },
      })),
    }),
  );
  // Fails the test when the binary is missing, like the promtool tests.
  const checked = await prometheusTool('promtool', ['check', 'config', config]);
  if (checked.code !== 0) throw new Error(`promtool check config: ${checked.stdout}${checked.stderr}`);
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout?.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  const spawned = prometheus;
  await eventually(
    'prometheus ready',
    async () => {
      if (spawned.exitCode !== null)
        throw new Error(`prometheus exited ${spawned.exitCode}: ${prometheusOutput}`);
      return (await fetch(`${prometheusUrl}/-/ready`)).ok;
    },
    20_000,
  );
}

async function stopPrometheus(): Promise<void> {
  const child = prometheus;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

beforeAll(async () => {
  const crds = readdirSync(join(repositoryRoot, 'crds'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => ['-f', join(repositoryRoot, 'crds', f)]);
  const applied = await kubectl('apply', '--server-side', '--force-conflicts', ...crds);
  if (applied.code !== 0) throw new Error(applied.stderr);
  const established = await kubectl('wait', '--for=condition=Established', '--timeout=60s', ...crds);
  if (established.code !== 0) throw new Error(established.stderr);
  await createObjects();
  const kubeconfig = `--kubeconfig=${sharedKubeconfigPath()}`;
  for (const [chart, args] of [
    ['kube-on-kube-operator', [`--namespace=${namespace}`]],
    ['node-operator', [`--namespace=${namespace}`, `--label-selector=${selector}`]],
  ] as const) {
    const port = await freePort();
    operators.set(chart, {
      process: new OperatorProcess(chart, [kubeconfig, ...args, `--metrics-bind-address=127.0.0.1:${port}`]),
      port,
    });
  }
  await startPrometheus();
}, 90_000);

afterAll(async () => {
  await stopPrometheus();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  // The Cluster's finalizer needs its operator: delete it first, then stop the operators.
  await custom
    .deleteNamespacedCustomObject({ ...clusters, namespace, name: 'observed' })
    .catch(() => undefined);
  await eventually(
    'the Cluster torn down',
    () =>
      custom.getNamespacedCustomObject({ ...clusters, namespace, name: 'observed' }).then(
        () => false,
        (error: { code?: number }) => error.code === 404,
      ),
    30_000,
  ).catch(() => undefined);
  for (const { process } of operators.values()) await process.stop();
  for (const plural of ['remediationpolicies', 'nodepools', 'machines'])
    await custom.deleteClusterCustomObject({ ...nodes, plural, name: id }).catch(() => undefined);
  await core.deleteNode({ name: id }).catch(() => undefined);
  await core.deletePersistentVolume({ name: storageClass }).catch(() => undefined);
  await kubectl('delete', 'clusterrolebinding,clusterrole', metricsReader, '--ignore-not-found');
  await storage.deleteStorageClass({ name: storageClass }).catch(() => undefined);
}, 60_000);

describe('a real prometheus scraping both operators', () => {
  it('finds a series for every metric the dashboards and alerts query, from the operator that exports it', async () => {
    // The dashboards' metrics, and the alerts' too (a misspelt name in a rule would never fire); node agents
    // are not part of this test.
    const alertMetrics = (chart: ObservedChart): string[] =>
      readAlerts(chart)
        .groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr)))
        .filter((name) => !name.startsWith('kok_node_agent_'));
    const wanted = new Map(
      observedCharts.map((chart) => [
        chart,
        [...new Set([...dashboardMetricNames(chart), ...alertMetrics(chart)])],
      ]),
    );
    let missing: string[] = [];
    try {
      await eventually(
        'a series for every dashboard metric',
        async () => {
          const present = new Set(await prometheusApi<string[]>('/api/v1/label/__name__/values'));
          missing = [...wanted.values()].flat().filter((name) => !present.has(name));
          return missing.length === 0;
        },
        // Typically 20-40 s (the gate histogram waits for etcd's gate); room for a loaded machine.
        90_000,
        1_000,
      );
    } catch (error) {
      const logs = [...operators].map(([chart, { process }]) => `${chart}:\n${process.output.slice(-2000)}`);
      throw new Error(`${(error as Error).message}\nmissing: ${missing.join(', ')}\n${logs.join('\n')}`, {
        cause: error,
      });
    }
    for (const [chart, names] of wanted)
      for (const name of names) {
        const series = await prometheusApi<Record<string, string>[]>(
          `/api/v1/series?match[]=${encodeURIComponent(`{__name__="${name}",job="${chart}"}`)}`,
        );
        expect(series.length, `${name} from ${chart}`).toBeGreaterThan(0);
      }
    // The objects of this test are among the series, labelled as the alerts expect.
    const pools = await prometheusApi<string[]>(`/api/v1/label/pool/values`);
    expect(pools).toContain(id);
    const policies = await prometheusApi<string[]>(`/api/v1/label/policy/values`);
    expect(policies).toContain(id);
    const observed = await prometheusApi<{ result: { metric: Record<string, string> }[] }>(
      `/api/v1/query?query=${encodeURIComponent(`kok_cluster_condition{namespace="${namespace}",cluster="observed",condition="Degraded"}`)}`,
    );
    expect(observed.result.length).toBeGreaterThan(0);
  });

  it('evaluates every alert rule of both charts without error', async () => {
    const data = await eventually(
      'every rule evaluated',
      async () => {
        const rules = await prometheusApi<{
          groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
        }>('/api/v1/rules?type=alert');
        const all = rules.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health !== 'unknown') && rules;
      },
      15_000,
      500,
    );
    expect(data.groups.map((g) => g.name).sort()).toEqual(['kok-kube-on-kube-operator', 'kok-node-operator']);
    for (const rule of data.groups.flatMap((g) => g.rules))
      expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok');
  });
});
