import { describe, expect, it } from 'vitest';
import { goDurationMs } from './go-duration.ts';

describe('goDurationMs', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['168h', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(goDurationMs(text)).toBe(ms));

  it.each(['', '5 minutes', '5', 'm', '1h 30m'])('%j is not a duration', (text) =>
    expect(goDurationMs(text)).toBeNaN(),
  );
});
