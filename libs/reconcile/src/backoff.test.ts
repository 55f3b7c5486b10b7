import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from 800 ms to a 30 s ceiling, without jitter when random() is 0', () => {
    const backoff = new Backoff({}, () => 0);
    const delays = Array.from({ length: 8 }, (_, i) => backoff.next(i * 1000));
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('stretches each delay by up to the jitter fraction', () => {
    expect(new Backoff({}, () => 0.5).next(0)).toBe(1200);
    expect(new Backoff({ jitter: 0.1 }, () => 1).next(0)).toBeCloseTo(880);
  });

  it('starts over after two healthy minutes', () => {
    const backoff = new Backoff({}, () => 0);
    backoff.next(0);
    backoff.next(1000);
    expect(backoff.next(2000)).toBe(3200);
    expect(backoff.next(2000 + 119_999)).toBe(6400);
    expect(backoff.next(2000 + 119_999 + 120_000)).toBe(800);
  });
});
