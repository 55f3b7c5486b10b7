import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import {
  bucketRateLimiter,
  defaultControllerRateLimiter,
  fastSlowRateLimiter,
  itemExponentialFailureRateLimiter,
  maxOfRateLimiter,
} from './rate-limiters.ts';

describe('itemExponentialFailureRateLimiter', () => {
  it.each([
    [1, 5],
    [2, 10],
    [3, 20],
    [10, 2560],
    [30, 1_000_000],
    [2000, 1_000_000],
  ])('retry %i waits %i ms by default', (retry, expected) => {
    const limiter = itemExponentialFailureRateLimiter<string>();
    let delay = 0;
    for (let i = 0; i < retry; i++) delay = limiter.when('a');
    expect(delay).toBe(expected);
  });

  it('grows monotonically per item until the cap, and forget() resets it (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.boolean()), { maxLength: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 100, max: 100_000 }),
        (ops, base, max) => {
          const limiter = itemExponentialFailureRateLimiter<string>({ baseDelayMs: base, maxDelayMs: max });
          const last = new Map<string, number>();
          for (const [key, isForget] of ops) {
            if (isForget) {
              limiter.forget(key);
              last.delete(key);
              expect(limiter.numRequeues(key)).toBe(0);
              continue;
            }
            const before = limiter.numRequeues(key);
            const delay = limiter.when(key);
            expect(limiter.numRequeues(key)).toBe(before + 1);
            expect(delay).toBe(Math.min(base * 2 ** before, max));
            expect(delay).toBeGreaterThanOrEqual(last.get(key) ?? 0);
            last.set(key, delay);
          }
        },
      ),
    );
  });
});

describe('bucketRateLimiter', () => {
  it('lets a burst through, then spaces retries at 1/qps', () => {
    const clock = new FakeClock();
    const limiter = bucketRateLimiter<string>({ qps: 10, burst: 3, clock });
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 0]);
    expect(limiter.when('d')).toBe(100);
    expect(limiter.when('e')).toBe(200);
    clock.advance(1000); // refills, but never above burst
    expect([limiter.when('a'), limiter.when('a'), limiter.when('a'), limiter.when('a')]).toEqual([
      0, 0, 0, 100,
    ]);
  });
});

describe('maxOfRateLimiter', () => {
  it('takes the longest delay, the highest requeue count, and forgets in all', () => {
    const fast = fastSlowRateLimiter<string>(1, 100, 2);
    const exp = itemExponentialFailureRateLimiter<string>({ baseDelayMs: 10 });
    const limiter = maxOfRateLimiter(fast, exp);
    expect([limiter.when('a'), limiter.when('a'), limiter.when('a')]).toEqual([10, 20, 100]);
    expect(limiter.numRequeues('a')).toBe(3);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(10);
  });

  it('the default controller limiter is bounded by the bucket once the burst is used', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<number>(clock);
    for (let i = 0; i < 100; i++) expect(limiter.when(i)).toBe(5);
    expect(limiter.when(100)).toBe(100);
  });
});
