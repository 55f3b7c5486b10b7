// The results file (`npm run bench -- --all` writes it) and the README table generated from it.
import { format, resolveConfig } from 'prettier';
import { benchmarks, type BenchmarkResult } from './benchmarks.ts';

/** One benchmark run as recorded: its JSON and the machine and code it ran on. */
export interface RecordedRun {
  /** `full`: the benchmark's own defaults; `smoke`: the small size of `--smoke`, not a figure to compare. */
  size: 'full' | 'smoke';
  /** Arguments the benchmark ran with. */
  args: string[];
  /** When it started (ISO 8601). */
  date: string;
  commit: string;
  /** Whether the working tree differed from `commit`. */
  uncommittedChanges: boolean;
  cores: number;
  /** 1, 5 and 15 minute load averages when it started: what else the machine was doing. */
  loadAverage: number[];
  seconds: number;
  result: BenchmarkResult;
}

export interface ResultsFile {
  benchmarks: Record<string, RecordedRun>;
}

export const TABLE_BEGIN =
  '<!-- benchmark-table:begin (generated from bench/results.json: npm run bench -- --table) -->';
export const TABLE_END = '<!-- benchmark-table:end -->';

/** Text for a table cell: pipes escaped, no line breaks. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function runCell(run: RecordedRun): string {
  const where = `${run.date.slice(0, 10)}, ${run.commit}${run.uncommittedChanges ? ' with uncommitted changes' : ''}, ${run.cores} cores, load ${run.loadAverage[0] ?? 'n/a'}`;
  return run.size === 'full'
    ? `full size (${where})`
    : `**smoke only, not run at full size**: ${run.args.join(' ')} (${where})`;
}

/** The README's benchmark table (Markdown, formatted as prettier formats the README). */
export async function benchmarkTable(results: ResultsFile): Promise<string> {
  const rows = benchmarks.map((benchmark) => {
    const run = results.benchmarks[benchmark.name];
    if (!run) return [`\`${benchmark.name}\``, 'not run', 'n/a', 'n/a', 'n/a', 'n/a'];
    const row = benchmark.headline(run.result);
    return [`\`${benchmark.name}\``, runCell(run), row.headline, row.baseline, row.ratio, row.target];
  });
  const header = ['name', 'run', 'headline', 'baseline, measured in the same run', 'ratio', 'target'];
  const lines = [header, header.map(() => '---'), ...rows].map((row) => `| ${row.map(cell).join(' | ')} |`);
  const smoke = Object.values(results.benchmarks).some((run) => run.size === 'smoke');
  const note = smoke
    ? 'Rows marked smoke come from `npm run bench -- --smoke` at small sizes: they show that the benchmark runs and what it reports, not how kok performs.\n\n'
    : '';
  const options = await resolveConfig(new URL('../../README.md', import.meta.url));
  return format(`${note}${lines.join('\n')}\n`, { ...options, parser: 'markdown' });
}

/** `readme` with the text between the table markers replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`the README has no ${TABLE_BEGIN} … ${TABLE_END} section`);
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n${readme.slice(end)}`;
}
