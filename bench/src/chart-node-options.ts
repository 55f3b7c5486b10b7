import { readFileSync } from 'node:fs';

/**
 * The NODE_OPTIONS (V8 heap limits) a chart gives its operator container, so a
 * benchmark runs the operator process as it is deployed. `--node-options=<s>`
 * on the benchmark's command line overrides it ("" for V8's own sizing).
 */
export function chartNodeOptions(chart: 'kube-on-kube-operator' | 'node-operator'): string {
  const override = process.argv.find((a) => a.startsWith('--node-options='));
  if (override !== undefined) return override.slice('--node-options='.length);
  const values = readFileSync(new URL(`../../charts/${chart}/values.yaml`, import.meta.url), 'utf8');
  const line = /^nodeOptions:\s*"([^"]*)"\s*$/m.exec(values);
  if (!line) throw new Error(`charts/${chart}/values.yaml has no nodeOptions: "…" line`);
  return line[1] ?? '';
}
