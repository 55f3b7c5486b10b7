import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchmarks, figure, missingFields, valueAt, type Benchmark } from './benchmarks.ts';

describe('the benchmark catalogue', () => {
  it('lists every src/*.bench.ts, once, so that --smoke and the table leave none out', () => {
    const files = readdirSync(new URL('./', import.meta.url))
      .filter((file) => file.endsWith('.bench.ts'))
      .map((file) => file.replace(/\.bench\.ts$/, ''))
      .sort();
    expect(benchmarks.map((b) => b.name).sort()).toEqual(files);
  });

  it('gives every benchmark smoke arguments and fields to check', () => {
    for (const benchmark of benchmarks) {
      expect(benchmark.smokeArgs.length, benchmark.name).toBeGreaterThan(0);
      expect(benchmark.fields.length, benchmark.name).toBeGreaterThan(0);
    }
  });
});

describe('valueAt', () => {
  const result = { a: { b: 1, n: null }, figures: [{ efficiency: 0.99 }] };
  it.each([
    ['a.b', 1],
    ['a.n', null],
    ['figures.0.efficiency', 0.99],
    ['figures.1.efficiency', undefined],
    ['a.b.c', undefined],
    ['missing', undefined],
  ])('%s → %s', (path, expected) => expect(valueAt(result, path)).toBe(expected));
});

describe('missingFields', () => {
  const benchmark: Benchmark = {
    name: 'example',
    smokeArgs: ['--small'],
    fields: ['seconds', 'targets.seconds', 'figures.0.machines'],
    headline: () => ({ headline: '', baseline: '', ratio: '', target: '' }),
  };
  it.each([
    [{ seconds: 1, targets: { seconds: 2 }, figures: [{ machines: 3 }] }, []],
    // NaN prints as null: the field is there, its figure is n/a.
    [{ seconds: null, targets: { seconds: 2 }, figures: [{ machines: 3 }] }, []],
    [{ seconds: 1, targets: {}, figures: [] }, ['targets.seconds', 'figures.0.machines']],
    [{}, ['seconds', 'targets.seconds', 'figures.0.machines']],
  ])('%j lacks %j', (result, expected) => expect(missingFields(benchmark, result)).toEqual(expected));
});

describe('figure', () => {
  it.each([
    [0.52, '0.52'],
    [3.5, '3.5'],
    [9_999, '9999'],
    [20_059, '20,059'],
    [14_200_000, '14.2 M'],
    [null, 'n/a'],
    [undefined, 'n/a'],
    [Number.NaN, 'n/a'],
    ['as shipped', 'as shipped'],
  ])('%s → %s', (value, expected) => expect(figure(value)).toBe(expected));
});

describe('the rollout-efficiency row', () => {
  const rolloutEfficiency = benchmarks.find((b) => b.name === 'rollout-efficiency') as Benchmark;
  const simulated = {
    upgradeMs: 1000,
    maxUnavailable: '5%',
    figures: [{ machines: 100, efficiency: 0.9, machineWriteCeilingPerSecond: 900 }],
  };
  const realAgents = {
    machines: 10,
    upgradeSecondsMedian: 1.4,
    idealSeconds: 14,
    rolloutSeconds: 20,
    efficiency: 0.7,
    operatorWritesPerMachine: 9,
    machineWriteCeilingPerSecond: 800,
  };

  it('reads the real-agent size beside the simulated ones, with its own T and write ceiling', () => {
    const row = rolloutEfficiency.headline({ ...simulated, realAgents });
    expect(row.headline).toContain(
      '10 real node-agents (T = their median upgrade, 1.4 s): efficiency 0.7 (20 s against 14 s ideal; 9 writes a machine)',
    );
    expect(row.baseline).toContain('800 writes/s in the real-agent run');
  });

  it('reads a run without the real-agent size as before', () => {
    const row = rolloutEfficiency.headline(simulated);
    expect(row.headline).not.toContain('real');
    expect(row.baseline).not.toContain('real');
  });
});
