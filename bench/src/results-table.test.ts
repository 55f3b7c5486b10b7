import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benchmarkTable,
  TABLE_BEGIN,
  TABLE_END,
  withTable,
  type RecordedRun,
  type ResultsFile,
} from './results-table.ts';

const run = (size: RecordedRun['size'], result: RecordedRun['result']): RecordedRun => ({
  size,
  args: size === 'smoke' ? ['--runs=1'] : [],
  date: '2026-12-01T10:00:00.000Z',
  commit: 'abc123def456',
  uncommittedChanges: false,
  cores: 2,
  loadAverage: [0.4, 0.5, 0.6],
  seconds: 12,
  result,
});
const workqueue = {
  benchmark: 'workqueue',
  addsPerRun: 1_000_000,
  addsPerSecondMedian1Worker: 14_200_000,
  addsPerSecondMedian8Workers: 10_600_000,
  baselineSetArrayAddsPerSecondMedian: 20_000_000,
  queueVsBaseline1Worker: 0.71,
  target: { addsPerSecond: 500_000 },
};
const row = (table: string, name: string) =>
  table.split('\n').find((line) => line.startsWith(`| \`${name}\``));

describe('the README benchmark table', () => {
  it('is what the generator makes of the committed results file', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const results = JSON.parse(
      readFileSync(new URL('../results.json', import.meta.url), 'utf8'),
    ) as ResultsFile;
    expect(readme).toBe(withTable(readme, await benchmarkTable(results)));
  });

  it('puts the headline, its same-run baseline, the ratio and the target of a full run in one row', async () => {
    const table = await benchmarkTable({ benchmarks: { workqueue: run('full', workqueue) } });
    const cells = row(table, 'workqueue')
      ?.split(' | ')
      .map((c) => c.trim());
    expect(cells?.[1]).toBe('full size (2026-12-01, abc123def456, 2 cores, load 0.4)');
    expect(cells?.[2]).toContain('14.2 M adds/s with 1 worker');
    expect(cells?.[3]).toBe('a Set and an array: 20 M adds/s');
    expect(cells?.[4]).toBe('0.71× (1 worker)');
    expect(cells?.[5]).toMatch(/^≥ 500,000 adds\/s/);
    expect(table).not.toContain('smoke');
  });

  it('says when a benchmark ran only at smoke size, and which benchmarks did not run', async () => {
    const table = await benchmarkTable({
      benchmarks: { workqueue: { ...run('smoke', workqueue), uncommittedChanges: true } },
    });
    expect(row(table, 'workqueue')).toContain(
      '**smoke only, not run at full size**: --runs=1 (2026-12-01, abc123def456 with uncommitted changes',
    );
    expect(table).toContain('Rows marked smoke');
    expect(row(table, 'node-scale')).toMatch(/^\| `node-scale`\s+\| not run\s+\|/);
  });
});

describe('withTable', () => {
  it('replaces only what lies between the markers', () => {
    const readme = `# kok\n\n${TABLE_BEGIN}\n\nold\n${TABLE_END}\n\nafter\n`;
    expect(withTable(readme, '| new |\n')).toBe(
      `# kok\n\n${TABLE_BEGIN}\n\n| new |\n\n${TABLE_END}\n\nafter\n`,
    );
  });

  it('refuses a README without the markers', () => {
    expect(() => withTable('# kok\n', 'table')).toThrow(/benchmark-table:begin/);
  });
});
