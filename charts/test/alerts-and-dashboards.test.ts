// The alert rules and dashboards the charts ship: promtool checks and
// unit-tests exactly the files the templates render, and the dashboards'
// PromQL parses.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { chartsDir, helm } from './helm.ts';
import {
  alertsPath,
  alertTestsPath,
  asPromQL,
  dashboardExpressions,
  dashboardMetricNames,
  dashboardPath,
  metricNames,
  observedCharts,
  prometheusTool,
  readAlerts,
  readDashboard,
} from './observability.ts';

/** The alerts each chart must have, and metrics its dashboard must show (rollouts, remediation, gates, queues). */
const expected = {
  'node-operator': {
    alerts: ['KokRolloutStalled', 'KokNodePoolPausedByFailureBudget', 'KokRemediationStorm'],
    metrics: [
      'kok_nodepool_updated_machines',
      'kok_nodepool_paused',
      'kok_nodepool_disrupted_machines',
      'kok_remediation_storm_active',
      'kok_remediation_actions_total',
      'kok_workqueue_depth',
      'kok_reconcile_errors_total',
    ],
  },
  'kube-on-kube-operator': {
    alerts: [
      'KokClusterCertificateExpiringSoon',
      'KokClusterDegraded',
      'KokClusterEtcdNoSpace',
      'KokClusterEtcdCorrupt',
      'KokClusterEtcdSnapshotFailing',
    ],
    metrics: [
      'kok_cluster_gate_duration_seconds_bucket',
      'kok_cluster_condition',
      'kok_cluster_certificate_expiry_timestamp_seconds',
      'kok_workqueue_depth',
      'kok_reconcile_errors_total',
    ],
  },
} as const;

interface PromtoolTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

async function render(chart: string, ...sets: string[]): Promise<Record<string, unknown>[]> {
  const result = await helm(
    'template',
    'probe',
    join(chartsDir, chart),
    '-n',
    'kok-system',
    ...sets.flatMap((s) => ['--set', s]),
  );
  expect(result.code, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Record<string, unknown>)
    .filter(Boolean);
}

describe.each(observedCharts)('%s observability', (chart) => {
  const dir = join(chartsDir, chart);

  it('alert rules pass promtool check rules', async () => {
    const result = await prometheusTool('promtool', ['check', 'rules', alertsPath(chart)]);
    expect(result.stdout + result.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('alert rules pass their promtool unit tests', async () => {
    const result = await prometheusTool('promtool', ['test', 'rules', 'tests/alerts.test.yaml'], dir);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('unit-tests every alert both firing and quiet', () => {
    const alerts = readAlerts(chart).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const tests = (parse(readFileSync(alertTestsPath(chart), 'utf8')) as PromtoolTests).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const alert of alerts) {
      const cases = tests.filter((t) => t.alertname === alert);
      expect(
        cases.some((t) => (t.exp_alerts ?? []).length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        cases.some((t) => (t.exp_alerts ?? []).length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
    expect(alerts).toEqual(expect.arrayContaining([...expected[chart].alerts]));
  });

  it('gives every alert a severity, a summary and a description', () => {
    for (const rule of readAlerts(chart).groups.flatMap((g) => g.rules)) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('renders files/alerts.yaml as is into the PrometheusRule, with extra labels', async () => {
    const objects = await render(chart, 'prometheusRule.enabled=true', 'prometheusRule.labels.release=kps');
    const rule = objects.find((o) => o.kind === 'PrometheusRule') as {
      metadata: { labels: Record<string, string> };
      spec: unknown;
    };
    expect(rule.spec).toEqual(readAlerts(chart));
    expect(rule.metadata.labels.release).toBe('kps');
    expect((await render(chart)).some((o) => o.kind === 'PrometheusRule')).toBe(false);
  });

  it('ships the dashboard as a ConfigMap for the Grafana sidecar only when enabled', async () => {
    const objects = await render(
      chart,
      'grafanaDashboard.enabled=true',
      'grafanaDashboard.annotations.grafana_folder=kok',
    );
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as {
      metadata: {
        name: string;
        namespace: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
      data: Record<string, string>;
    };
    expect(configMap.metadata.name).toBe('probe-dashboard');
    expect(configMap.metadata.namespace).toBe('kok-system');
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(configMap.metadata.annotations.grafana_folder).toBe('kok');
    const files = Object.keys(configMap.data);
    expect(files).toEqual([`kok-${chart}.json`]);
    expect(JSON.parse(configMap.data[files[0] as string] as string)).toEqual(
      JSON.parse(readFileSync(dashboardPath(chart), 'utf8')),
    );
    const elsewhere = await render(
      chart,
      'grafanaDashboard.enabled=true',
      'grafanaDashboard.namespace=monitoring',
    );
    expect(elsewhere.find((o) => o.kind === 'ConfigMap')).toMatchObject({
      metadata: { namespace: 'monitoring' },
    });
    expect((await render(chart)).some((o) => o.kind === 'ConfigMap')).toBe(false);
  });

  it('has a dashboard whose every query is valid PromQL over kok_ metrics', async () => {
    const dashboard = readDashboard(chart);
    expect(dashboard.uid).toBe(`kok-${chart}`);
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThan(10);
    const names = dashboardMetricNames(chart);
    expect(names.filter((n) => !n.startsWith('kok_'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining([...expected[chart].metrics]));
    for (const expression of expressions) expect(metricNames(expression), expression).not.toEqual([]);
    // promtool parses each one as a recording rule, with Grafana's variables filled in.
    const file = join(mkdtempSync(join(tmpdir(), 'kok-dashboard-')), 'queries.yaml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: expressions.map((e, i) => ({ record: `kok:dashboard_query_${i}`, expr: asPromQL(e) })),
          },
        ],
      }),
    );
    const result = await prometheusTool('promtool', ['check', 'rules', file]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe('dashboard metric names', () => {
  it.each([
    ['sum by (pool) (kok_nodepool_machines{job=~"$job"})', ['kok_nodepool_machines']],
    [
      'histogram_quantile(0.9, sum by (le) (rate(kok_cluster_gate_duration_seconds_bucket[$__rate_interval])))',
      ['kok_cluster_gate_duration_seconds_bucket'],
    ],
    ['max(kok_a{x="kok_not_a_metric"}) - time() < 5 * up', ['kok_a']],
    ['rate(process_cpu_seconds_total[5m])', ['process_cpu_seconds_total']],
    ['label_values(kok_cluster_phase{job=~"$job"}, namespace)', ['kok_cluster_phase']],
  ])('%s selects %j', (expression, names) => {
    expect(metricNames(expression)).toEqual(names);
  });

  it('fills in Grafana variables so Prometheus can evaluate the query', () => {
    expect(asPromQL('rate(kok_x{job=~"$job",pool=~"${pool}"}[$__rate_interval])')).toBe(
      'rate(kok_x{job=~".*",pool=~".*"}[5m])',
    );
    expect(asPromQL('label_values(kok_y{job=~"$job"}, pool)')).toBe('kok_y{job=~".*"}');
  });
});
