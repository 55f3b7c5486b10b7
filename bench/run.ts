// npm run bench -- <name> [args]   runs bench/src/<name>.bench.ts, which prints one JSON line last.
// npm run bench -- --smoke [<name>...] [--results=<file>]
//     every benchmark (or those named) at a small size, one after the other, each in its own process;
//     prints each one's JSON line and fails if any benchmark fails or its JSON lacks a field the
//     README's table reads. With --results, records the runs there, labelled smoke.
// npm run bench -- --all [<name>...] [--results=<file>]
//     every benchmark (or those named) at full size; records each run (its JSON, the machine's core
//     count and load average, the date and commit) in the results file (default bench/results.json)
//     and regenerates the README's benchmark table from it. Takes tens of minutes: run it on a quiet machine.
// npm run bench -- --table   regenerates the README's benchmark table from bench/results.json.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { benchmarks, missingFields, type Benchmark, type BenchmarkResult } from './src/benchmarks.ts';
import { benchmarkTable, withTable, type RecordedRun, type ResultsFile } from './src/results-table.ts';

const repo = new URL('../', import.meta.url);
const defaultResults = new URL('bench/results.json', repo).pathname;
const readme = new URL('README.md', repo).pathname;

const available = readdirSync(new URL('./src/', import.meta.url))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.replace(/\.bench\.ts$/, ''));
const args = process.argv.slice(2);
const mode = args[0];

if (mode === '--smoke' || mode === '--all') {
  const resultsFlag = args.find((a) => a.startsWith('--results='))?.slice('--results='.length);
  const named = args.slice(1).filter((a) => !a.startsWith('--'));
  const unknown = named.filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length) usage(`unknown benchmark ${unknown.join(', ')}`);
  const chosen = benchmarks.filter((b) => named.length === 0 || named.includes(b.name));
  const size = mode === '--smoke' ? 'smoke' : 'full';
  const resultsPath = resultsFlag ? resolve(resultsFlag) : size === 'full' ? defaultResults : undefined;
  const began = performance.now();
  const recorded: Record<string, RecordedRun> = {};
  const failed: string[] = [];
  for (const benchmark of chosen) {
    try {
      recorded[benchmark.name] = await runBenchmark(benchmark, size);
    } catch (error) {
      failed.push(`${benchmark.name}: ${(error as Error).message}`);
    }
  }
  console.error(`[bench] ${chosen.length} benchmarks in ${seconds(began)} s`);
  if (resultsPath) {
    const results: ResultsFile = existsSync(resultsPath)
      ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultsFile)
      : { benchmarks: {} };
    // Runs that failed keep their earlier entry, which carries its own date and commit.
    Object.assign(results.benchmarks, recorded);
    results.benchmarks = Object.fromEntries(
      Object.entries(results.benchmarks).sort(([a], [b]) => a.localeCompare(b)),
    );
    // As prettier prints it, so that the file stays as the repository's formatting check wants it.
    const options = await resolveConfig(resultsPath);
    writeFileSync(
      resultsPath,
      await format(JSON.stringify(results, null, 2), { ...options, parser: 'json' }),
    );
    console.error(`[bench] recorded in ${resultsPath}`);
    if (resultsPath === defaultResults) await writeTable();
  }
  if (failed.length) {
    console.error(`[bench] failed:\n  ${failed.join('\n  ')}`);
    process.exit(1);
  }
} else if (mode === '--table') {
  await writeTable();
} else {
  const [name, ...rest] = args;
  if (!name || !available.includes(name)) usage();
  process.argv = [process.argv[0] ?? 'node', name, ...rest];
  await import(`./src/${name}.bench.ts`);
}

function usage(problem?: string): never {
  if (problem) console.error(problem);
  console.error(
    `usage: npm run bench -- <name> [args] | --smoke [<name>...] [--results=<file>] | --all [<name>...] [--results=<file>] | --table\navailable: ${available.join(', ')}`,
  );
  process.exit(2);
}

function seconds(since: number): number {
  return Number(((performance.now() - since) / 1000).toFixed(1));
}

/** Runs one benchmark in a process of its own; its JSON line goes to stdout, its log to stderr. */
async function runBenchmark(benchmark: Benchmark, size: 'full' | 'smoke'): Promise<RecordedRun> {
  const benchmarkArgs = size === 'smoke' ? [...benchmark.smokeArgs] : [];
  const date = new Date().toISOString();
  const load = loadavg().map((l) => Number(l.toFixed(2)));
  console.error(`[bench] ${benchmark.name} ${benchmarkArgs.join(' ')}`);
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [new URL(`./src/${benchmark.name}.bench.ts`, import.meta.url).pathname, ...benchmarkArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const took = seconds(began);
  if (code !== 0) throw new Error(`exited with ${code} after ${took} s`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let result: BenchmarkResult;
  try {
    result = JSON.parse(line) as BenchmarkResult;
  } catch {
    throw new Error(`its last line is not JSON: ${line.slice(0, 200)}`);
  }
  console.log(JSON.stringify(result));
  console.error(`[bench] ${benchmark.name}: ${took} s`);
  const missing = missingFields(benchmark, result);
  if (result['benchmark'] !== benchmark.name) missing.unshift('benchmark');
  if (missing.length) throw new Error(`its JSON lacks ${missing.join(', ')}`);
  return {
    size,
    args: benchmarkArgs,
    date,
    commit: git('rev-parse', '--short=12', 'HEAD'),
    uncommittedChanges: git('status', '--porcelain', '--untracked-files=no') !== '',
    cores: cpus().length,
    loadAverage: load,
    seconds: took,
    result,
  };
}

function git(...gitArgs: string[]): string {
  return execFileSync('git', gitArgs, { cwd: repo, encoding: 'utf8' }).trim();
}

async function writeTable(): Promise<void> {
  const results = JSON.parse(readFileSync(defaultResults, 'utf8')) as ResultsFile;
  writeFileSync(readme, withTable(readFileSync(readme, 'utf8'), await benchmarkTable(results)));
  console.error(`[bench] README.md's benchmark table regenerated from ${defaultResults}`);
}
