import { describe, expect, it } from 'vitest';
import { AdaptiveTokenBucket } from './adaptive-rate.ts';
import { FakeClock } from './clock.ts';

/** A bucket at 20 qps (ceiling 100, burst 10) and a clock to drive it. */
function bucket(maxQps = 100) {
  const clock = new FakeClock();
  return { clock, rate: new AdaptiveTokenBucket({ qps: 20, maxQps, burst: 10, clock }) };
}

/** `count` requests at once: the client has more to send than the rate lets through. */
const flood = (rate: AdaptiveTokenBucket, count = 50) => {
  for (let i = 0; i < count; i++) rate.reserve();
};

describe('AdaptiveTokenBucket', () => {
  it('stays at its rate while the client never has to wait', () => {
    const { clock, rate } = bucket();
    for (let i = 0; i < 100; i++) {
      expect(rate.reserve()).toBe(0);
      clock.advance(100);
    }
    expect(rate.qps).toBe(20);
  });

  it.each([
    [1, 30],
    [2, 45],
    [3, 67.5],
    [4, 100],
    [6, 100],
  ])(
    'rises by half each second in which requests waited and none was refused: after %i s, %d qps',
    (seconds, qps) => {
      const { clock, rate } = bucket();
      for (let s = 0; s < seconds; s++) {
        flood(rate);
        clock.advance(1_000);
      }
      rate.reserve();
      expect(rate.qps).toBe(qps);
    },
  );

  it.each([
    ['a 429 with Retry-After 2', 429, 2, 10, 2_000],
    ['a 429 without Retry-After', 429, undefined, 10, 0],
    ['a 500', 500, undefined, 20, 0],
    ['a 409', 409, undefined, 20, 0],
  ])('after %s: the rate and the pause before the next request', (_, status, retryAfter, qps, pause) => {
    const { rate } = bucket();
    rate.observe(status, retryAfter);
    expect(rate.qps).toBe(qps);
    expect(rate.reserve()).toBeGreaterThanOrEqual(pause);
  });

  it('halves on every 429, down to 1 qps', () => {
    const { rate } = bucket();
    for (let i = 0; i < 10; i++) rate.observe(429, undefined);
    expect(rate.qps).toBe(1);
  });

  it('does not rise again within a second of a 429, nor before its Retry-After has passed', () => {
    const { clock, rate } = bucket();
    rate.observe(429, 2);
    for (let ms = 0; ms < 3_000; ms += 500) {
      flood(rate, 5);
      clock.advance(500);
    }
    expect(rate.qps).toBe(10);
    // A second past the Retry-After, still more to send than the rate lets through.
    flood(rate, 5);
    expect(rate.qps).toBe(15);
  });

  it('refuses a ceiling below its starting rate', () => {
    expect(() => new AdaptiveTokenBucket({ qps: 20, maxQps: 10, burst: 1 })).toThrow(/qps <= maxQps/);
  });
});
