// The charts' alert rules and Grafana dashboards as data, and Debian's
// promtool and prometheus binaries, for the observability tests.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { chartsDir } from './helm.ts';
import type { CommandResult } from './helm.ts';

const run = promisify(execFile);

/** The two charts, each with its own alerts and dashboard. */
export const observedCharts = ['node-operator', 'kube-on-kube-operator'] as const;
export type ObservedChart = (typeof observedCharts)[number];

export const alertsPath = (chart: ObservedChart): string => join(chartsDir, chart, 'files/alerts.yaml');
export const alertTestsPath = (chart: ObservedChart): string =>
  join(chartsDir, chart, 'tests/alerts.test.yaml');
export const dashboardPath = (chart: ObservedChart): string => join(chartsDir, chart, 'files/dashboard.json');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; rules: AlertRule[] }[];
}

export const readAlerts = (chart: ObservedChart): RuleFile =>
  parse(readFileSync(alertsPath(chart), 'utf8')) as RuleFile;

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

export const readDashboard = (chart: ObservedChart): Dashboard =>
  JSON.parse(readFileSync(dashboardPath(chart), 'utf8')) as Dashboard;

/** Every PromQL expression of the dashboard: panel targets (rows included) and template variable queries. */
export function dashboardExpressions(dashboard: Dashboard): string[] {
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list.flatMap((v) => {
    const query = typeof v.query === 'object' ? v.query.query : v.query;
    return query?.startsWith('label_values(') ? [query] : [];
  });
  return [...targets, ...variables];
}

/** The metric names an expression selects: every name before a `{` selector or a `[` range, and every kok_ name. */
export function metricNames(expression: string): string[] {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set<string>();
  for (const match of withoutStrings.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g))
    names.add(match[1] as string);
  for (const match of withoutStrings.matchAll(/\bkok_[a-zA-Z0-9_:]*/g)) names.add(match[0]);
  return [...names].sort();
}

/** Grafana's variables replaced by what Prometheus can evaluate: ranges by 5m, selections by `.*`. */
export function asPromQL(expression: string): string {
  const label = /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/.exec(expression);
  const plain = label ? (label[1] as string) : expression;
  return plain.replace(/\$__(rate_)?interval|\$__range/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
}

export const dashboardMetricNames = (chart: ObservedChart): string[] =>
  [...new Set(dashboardExpressions(readDashboard(chart)).flatMap(metricNames))].sort();

/**
 * A binary from Debian's prometheus package (/usr/bin). Missing, it fails the
 * test that needs it: scripts/with-deps.sh installs it (apt-get install prometheus).
 */
export async function prometheusTool(
  binary: 'promtool' | 'prometheus',
  args: string[],
  cwd?: string,
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 16 << 20, ...(cwd ? { cwd } : {}) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT')
      throw new Error(
        `${binary} is not installed: it comes from Debian's prometheus package (apt-get install -y prometheus; scripts/with-deps.sh installs it)`,
        { cause: error },
      );
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}
