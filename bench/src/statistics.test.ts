import { describe, expect, it } from 'vitest';
import { median, percentile } from './statistics.ts';

describe('median', () => {
  it.each([
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])('%j → %s', (values, expected) => expect(median(values)).toBe(expected));

  it('refuses an empty sample', () => expect(() => median([])).toThrow('empty'));
});

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
  it.each([
    [hundred, 0.5, 50],
    [hundred, 0.99, 99],
    [hundred, 1, 100],
    [[7], 0.99, 7],
    [[1, 2, 3, 1000], 0.5, 2],
    [[1, 2, 3, 1000], 0.99, 1000],
    [[5, 1], 0.01, 1],
  ])('%j at %s → %s', (values, q, expected) => expect(percentile(values, q)).toBe(expected));

  it('is NaN for an empty sample, which the JSON prints as null', () =>
    expect(percentile([], 0.5)).toBeNaN());
});
