import { FakeClock } from '@kok/reconcile';
import { describe, expect, it } from 'vitest';
import { PassRetries } from './pass-retries.ts';

const key = 'machine-1';

describe('PassRetries', () => {
  it('waits the base delay, then twice as long each time, at most 5 minutes', () => {
    const retries = new PassRetries(new FakeClock(), 1000);
    const delays = Array.from({ length: 11 }, () => retries.when(key));
    expect(delays).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000,
    ]);
  });

  it('starts over from the base delay once a pass succeeds', () => {
    const retries = new PassRetries(new FakeClock(), 5000);
    retries.when(key);
    retries.when(key);
    retries.forget(key);
    expect(retries.numRequeues(key)).toBe(0);
    expect(retries.when(key)).toBe(5000);
  });

  it('says a retry is pending from a failure until it falls due, and not after a success', () => {
    const clock = new FakeClock();
    const retries = new PassRetries(clock, 1000);
    expect(retries.isRetryPending()).toBe(false);
    retries.when(key);
    expect(retries.isRetryPending()).toBe(true);
    clock.advance(999);
    expect(retries.isRetryPending()).toBe(true);
    clock.advance(1);
    expect(retries.isRetryPending()).toBe(false);
    retries.when(key);
    expect(retries.isRetryPending()).toBe(true);
    retries.forget(key);
    expect(retries.isRetryPending()).toBe(false);
  });

  it('keeps the earlier due time when a pass fails while a retry is still to come, as the queue does', () => {
    const clock = new FakeClock();
    const retries = new PassRetries(clock, 1000);
    retries.when(key); // due at +1000
    clock.advance(500);
    retries.when(key); // +2000 from now, later than the one still waiting
    clock.advance(500);
    expect(retries.isRetryPending()).toBe(false);
  });
});
