import { describe, expect, it } from 'vitest';
import {
  holdAfterWave,
  isWaveComplete,
  resolveWaves,
  waveFinishedAt,
  type Wave,
  type WaveMember,
} from './waves.ts';
import { doneAtTarget, machine, NOW, workers } from './test-support/machines.ts';
import type { WaveSpec } from './rollout-spec.ts';

const memberNames = (waves: readonly Wave<WaveMember>[]): string[][] =>
  waves.map((wave) => wave.members.map((m) => m.name));

describe('resolveWaves', () => {
  const ten = workers(10);

  it('is one implicit wave of every machine when the spec has none', () => {
    const waves = resolveWaves(ten);
    expect(memberNames(waves)).toEqual([ten.map((m) => m.name)]);
    expect(waves[0]).toMatchObject({ implicit: true, label: 'waves[0] (all machines)' });
  });

  it('treats counts and percentages as cumulative prefixes of the order, percentages rounded up', () => {
    const waves = resolveWaves(ten, [{ count: 1 }, { percent: 25 }, { count: 6 }, { percent: 100 }]);
    expect(memberNames(waves)).toEqual([
      ['worker-1'],
      ['worker-2', 'worker-3'],
      ['worker-4', 'worker-5', 'worker-6'],
      ['worker-7', 'worker-8', 'worker-9', 'worker-10'],
    ]);
  });

  it('adds the machines no wave covers as a last implicit wave, and allows empty waves', () => {
    const waves = resolveWaves(ten, [{ count: 2, name: 'canary' }, { count: 1 }]);
    expect(memberNames(waves)).toEqual([
      ['worker-1', 'worker-2'],
      [],
      ['worker-3', 'worker-4', 'worker-5', 'worker-6', 'worker-7', 'worker-8', 'worker-9', 'worker-10'],
    ]);
    expect(waves.map((wave) => wave.label)).toEqual([
      '"canary" (waves[0])',
      'waves[1]',
      'waves[2] (remaining machines)',
    ]);
  });

  it('lets a selector pick machines anywhere in the order, and counts them towards later cumulative waves', () => {
    const fleet = [
      machine('a-1', { labels: { zone: 'a' } }),
      machine('a-2', { labels: { zone: 'a' } }),
      machine('b-1', { labels: { zone: 'b', canary: 'true' } }),
      machine('b-2', { labels: { zone: 'b' } }),
    ];
    const specs: WaveSpec[] = [
      { selector: { matchLabels: { canary: 'true' } } },
      { count: 2 },
      { selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] } },
    ];
    expect(memberNames(resolveWaves(fleet, specs))).toEqual([['b-1'], ['a-1'], ['b-2'], ['a-2']]);
  });

  it('puts every machine in exactly one wave', () => {
    const waves = resolveWaves(ten, [
      { percent: 10 },
      { selector: { matchLabels: { none: 'x' } } },
      { count: 3 },
    ]);
    const all = waves.flatMap((wave) => wave.members.map((m) => m.name));
    expect(all.toSorted()).toEqual(ten.map((m) => m.name).toSorted());
  });
});

describe('resolveWaves with members pinned to a wave (ClusterRollouts)', () => {
  const member = (name: string, pinnedWave?: string, labels: Record<string, string> = {}): WaveMember => ({
    name,
    labels,
    ...(pinnedWave === undefined ? {} : { pinnedWave }),
  });
  const specs: WaveSpec[] = [
    { name: 'canary', count: 1 },
    { name: 'early', count: 3 },
  ];
  const options = { implicitWaveName: '(remaining)', noun: 'clusters' };

  it.each<[string, WaveMember[], string[][]]>([
    [
      'nothing pinned: cumulative counts in order',
      ['a', 'b', 'c', 'd', 'e'].map((name) => member(name)),
      [['a'], ['b', 'c'], ['d', 'e']],
    ],
    [
      'a member pinned to a later wave stays there and counts towards its size',
      [member('a'), member('b'), member('c', 'early'), member('d'), member('e')],
      [['a'], ['b', 'c'], ['d', 'e']],
    ],
    [
      'a member pinned to the first wave fills it; the next in order goes on',
      [member('a'), member('b'), member('c'), member('d', 'canary'), member('e')],
      [['d'], ['a', 'b'], ['c', 'e']],
    ],
    [
      'a member pinned to the implicit wave stays there',
      [member('a', '(remaining)'), member('b'), member('c'), member('d')],
      [['b'], ['c', 'd'], ['a']],
    ],
    [
      'a pin to a wave the spec no longer has is ignored',
      [member('a'), member('b', 'gone'), member('c'), member('d'), member('e')],
      [['a'], ['b', 'c'], ['d', 'e']],
    ],
  ])('%s', (_, members, expected) => {
    const waves = resolveWaves(members, specs, options);
    expect(memberNames(waves)).toEqual(expected);
    expect(waves.at(-1)).toMatchObject({ implicit: true, spec: { name: '(remaining)' } });
  });

  it('labels the implicit wave with the members it takes', () => {
    expect(resolveWaves([member('a')], [], options)[0]?.label).toBe('waves[0] (all clusters)');
  });
});

describe('wave completion and holds', () => {
  const wave = (members: Wave['members'], spec: WaveSpec = {}): Wave => ({
    index: 0,
    label: 'waves[0]',
    spec,
    implicit: false,
    members,
  });

  it('is complete when every member is done at the target or failed there', () => {
    expect(
      isWaveComplete(
        wave([doneAtTarget('a'), machine('b', { failedRevision: 'r2', desiredRevision: 'r2' })]),
        'r2',
      ),
    ).toBe(true);
    expect(isWaveComplete(wave([doneAtTarget('a'), machine('b', { desiredRevision: 'r2' })]), 'r2')).toBe(
      false,
    );
    expect(isWaveComplete(wave([doneAtTarget('a', { ready: false })]), 'r2')).toBe(false);
    expect(isWaveComplete(wave([doneAtTarget('a', { underRemediation: true })]), 'r2')).toBe(false);
  });

  it('finishes when its last member finished', () => {
    expect(
      waveFinishedAt(wave([doneAtTarget('a', { finishedAt: 5 }), doneAtTarget('b', { finishedAt: 9 })])),
    ).toBe(9);
    expect(waveFinishedAt(wave([doneAtTarget('a', { finishedAt: undefined })]))).toBeUndefined();
  });

  const finished = NOW - 60_000;
  it.each([
    { spec: {}, now: NOW, last: false, expected: undefined },
    {
      spec: { bakeSeconds: 300 },
      now: NOW,
      last: false,
      expected: { reason: 'Baking', until: finished + 300_000 },
    },
    { spec: { bakeSeconds: 60 }, now: NOW, last: false, expected: undefined },
    {
      spec: { bakeSeconds: 300 },
      now: NOW,
      last: true,
      expected: { reason: 'Baking', until: finished + 300_000 },
    },
    { spec: { pauseAfter: true }, now: NOW, last: false, expected: { reason: 'AwaitingResume' } },
    { spec: { pauseAfter: true }, now: NOW, last: true, expected: undefined },
    { spec: { pauseAfter: true }, now: NOW, last: false, resumed: 0, expected: undefined },
    { spec: { pauseAfter: false }, now: NOW, last: false, expected: undefined },
    {
      spec: { pauseAfter: 120 },
      now: NOW,
      last: false,
      expected: { reason: 'PauseAfter', until: finished + 120_000 },
    },
    {
      spec: { pauseAfter: 120, bakeSeconds: 30 },
      now: NOW,
      last: false,
      expected: { reason: 'PauseAfter', until: finished + 150_000 },
    },
    {
      spec: { pauseAfter: 120, bakeSeconds: 90 },
      now: NOW,
      last: false,
      expected: { reason: 'Baking', until: finished + 90_000 },
    },
    { spec: { pauseAfter: 120 }, now: NOW + 60_000, last: false, expected: undefined },
    { spec: { pauseAfter: 120 }, now: NOW, last: false, resumed: 0, expected: undefined },
    {
      spec: { pauseAfter: true },
      now: NOW,
      last: false,
      resumed: -1,
      expected: { reason: 'AwaitingResume' },
    },
    {
      spec: { pauseAfter: 120, bakeSeconds: 300 },
      now: NOW,
      last: false,
      resumed: 3,
      expected: { reason: 'Baking', until: finished + 300_000 },
    },
  ])('$spec at +$now, last $last, resumed $resumed → $expected', ({ spec, now, last, resumed, expected }) => {
    const hold = holdAfterWave(
      wave([doneAtTarget('a', { finishedAt: finished })], spec as WaveSpec),
      now,
      resumed,
      last,
    );
    expect(hold).toEqual(expected);
  });
});
