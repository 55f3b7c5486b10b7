import { describe, expect, it } from 'vitest';
import {
  parsePausedAfterWave,
  pauseAfterWaveOf,
  pausedAfterWaveValue,
  plannerMemory,
  poolRolloutMemory,
  type PoolRolloutMemoryView,
} from './pause-after-wave.ts';

describe('the pause record', () => {
  it.each([
    ['a revision', pausedAfterWaveValue('r2', 0), { target: 'r2', wave: 0 }],
    ['a version', pausedAfterWaveValue('v1.36.4', 3), { target: 'v1.36.4', wave: 3 }],
    ['absent', undefined, undefined],
    ['no wave', 'r2/', undefined],
    ['no target', '/1', undefined],
    ['not a number', 'r2/first', undefined],
  ])('%s', (_, value, expected) => {
    expect(parsePausedAfterWave(value)).toEqual(expected);
  });

  it.each([
    ['still paused', pausedAfterWaveValue('v2', 1), 'v2', true, { wave: 1, resumed: false }],
    [
      'a person set paused back to false',
      pausedAfterWaveValue('v2', 1),
      'v2',
      false,
      { wave: 1, resumed: true },
    ],
    ['about another target', pausedAfterWaveValue('v1', 1), 'v2', false, undefined],
    ['garbled', 'v2', 'v2', false, undefined],
  ])('pauseAfterWaveOf: %s', (_, value, target, paused, expected) => {
    expect(pauseAfterWaveOf(value, target, paused)).toEqual(expected);
  });
});

describe('poolRolloutMemory', () => {
  const pool = (
    paused?: boolean,
    pausedAfterWave?: string,
    record?: PoolRolloutMemoryView['record'],
  ): PoolRolloutMemoryView => ({
    ...(paused === undefined ? {} : { paused }),
    ...(pausedAfterWave === undefined ? {} : { pausedAfterWave }),
    ...(record ? { record } : {}),
  });

  it.each([
    ['fresh revision: nothing remembered', pool(), 'r2', { rolledBack: false, resumed: false }],
    [
      'status about another revision is stale',
      pool(undefined, undefined, { revision: 'r1', rolledBack: true, resumedAfterWave: 3 }),
      'r2',
      { rolledBack: false, resumed: false },
    ],
    [
      'status about this revision is kept',
      pool(undefined, undefined, { revision: 'r2', rolledBack: true, resumedAfterWave: 1 }),
      'r2',
      { rolledBack: true, resumedAfterWave: 1 },
    ],
    [
      'paused by the operator after wave 0 and still paused',
      pool(true, pausedAfterWaveValue('r2', 0)),
      'r2',
      { pausedAfterWave: 0, resumed: false },
    ],
    [
      'a person set paused back to false: resumed past wave 0',
      pool(false, pausedAfterWaveValue('r2', 0)),
      'r2',
      { resumed: true, resumedAfterWave: 0 },
    ],
    [
      'the pause annotation of another revision means nothing',
      pool(false, pausedAfterWaveValue('r1', 0)),
      'r2',
      { resumed: false },
    ],
  ])('%s', (_, p, target, expected) => {
    const memory = poolRolloutMemory(p, target);
    expect(memory).toMatchObject(expected);
    if (!('resumedAfterWave' in expected)) expect(memory.resumedAfterWave).toBeUndefined();
  });
});

describe('plannerMemory', () => {
  it.each([
    ['nothing remembered', { rolledBack: false, resumed: false }, { rolledBack: false }],
    [
      'paused by the operator after wave 0: the machines await a resume past it',
      { rolledBack: false, resumed: false, pausedAfterWave: 0 },
      { rolledBack: false, pausedAfterWave: 0 },
    ],
    [
      'a person resumed: past wave 0, and nothing awaits a resume',
      { rolledBack: false, resumed: true, pausedAfterWave: 0, resumedAfterWave: 0 },
      { rolledBack: false, resumedAfterWave: 0 },
    ],
    ['rolled back', { rolledBack: true, resumed: false }, { rolledBack: true }],
  ])('%s', (_, memory, expected) => {
    expect(plannerMemory(memory)).toEqual(expected);
  });
});
