// Keeps every benchmark alive: `npm run bench -- --smoke` runs each at a small size, and each must
// print its JSON with every field the README's table reads. No timing is asserted: a shared CI host
// says nothing about speed.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benchmarks, missingFields, type BenchmarkResult } from './benchmarks.ts';

describe('npm run bench -- --smoke', () => {
  it('runs every benchmark, and each prints its JSON with every expected field', async () => {
    const child = spawn(process.execPath, [new URL('../run.ts', import.meta.url).pathname, '--smoke'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    const printed = new Map<string, BenchmarkResult>();
    for (const line of stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const result = JSON.parse(line) as BenchmarkResult;
      printed.set(String(result['benchmark']), result);
    }
    const report = benchmarks.map((benchmark) => {
      const result = printed.get(benchmark.name);
      return { name: benchmark.name, missing: result ? missingFields(benchmark, result) : ['(no JSON)'] };
    });
    // On failure, the benchmarks' own log says why: first which failed and how, then the log's tail.
    expect(report, `${failureSummary(stderr)}\n${stderr.split('\n').slice(-60).join('\n')}`).toEqual(
      benchmarks.map((b) => ({ name: b.name, missing: [] })),
    );
    expect(code).toBe(0);
    // The table can be made from what they print.
    for (const benchmark of benchmarks) {
      const row = benchmark.headline(printed.get(benchmark.name) as BenchmarkResult);
      expect(row.headline, benchmark.name).not.toContain('undefined');
    }
    // Every benchmark one after the other, each booting what it measures: about 10 minutes on a quiet host.
  }, 1_200_000);
});

/**
 * One line naming each failed benchmark with its own error: a CI summary shows only the first line of
 * an assertion's message. The log is split at the "[bench] <name>" line each run begins with.
 */
function failureSummary(stderr: string): string {
  const failed =
    stderr
      .split('\n[bench] failed:\n')[1]
      ?.split('\n')
      .filter((l) => l.startsWith('  ')) ?? [];
  return (
    failed
      .map((line) => {
        const name = line.trim().split(':')[0] ?? '';
        const section = (stderr.split(`\n[bench] ${name} `).at(-1) ?? '').split('\n[bench] ')[0] ?? '';
        const error = section.split('\n').find((l) => /^\s*\w*Error: |timed out/.test(l));
        return `${line.trim()}${error ? ` (${error.trim().slice(0, 300)})` : ''}`;
      })
      .join('; ') || 'no benchmark reported a failure'
  );
}
