import { describe, expect, it } from 'vitest';
import { WrittenFrom } from './written-from.ts';

describe('WrittenFrom', () => {
  it.each<[string, (w: WrittenFrom) => void, string, number, boolean]>([
    ['nothing written', () => undefined, '7', 0, false],
    ['written from the version the cache still shows', (w) => w.wrote('n', '7', 0), '7', 10, true],
    ['written from an older version: the cache has moved on', (w) => w.wrote('n', '6', 0), '7', 10, false],
    ['written from an absent object, which the cache still lacks', (w) => w.wrote('n', '', 0), '', 10, true],
    ['written from the same version, past the horizon', (w) => w.wrote('n', '7', 0), '7', 30_000, false],
    ['another object written', (w) => w.wrote('m', '7', 0), '7', 10, false],
    ['written, then forgotten', (w) => (w.wrote('n', '7', 0), w.forget('n')), '7', 10, false],
  ])('%s', (_, setup, version, now, behind) => {
    const written = new WrittenFrom(30_000);
    setup(written);
    expect(written.behind('n', version, now)).toBe(behind);
  });

  it('forgets a version once the cache showed another, so a later return to it is not taken for lag', () => {
    const written = new WrittenFrom();
    written.wrote('n', '7', 0);
    expect(written.behind('n', '8', 1)).toBe(false);
    expect(written.behind('n', '7', 2)).toBe(false);
  });
});
