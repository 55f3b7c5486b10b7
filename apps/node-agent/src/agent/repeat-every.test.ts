import { FakeClock } from '@kok/reconcile';
import { describe, expect, it } from 'vitest';
import { repeatEvery } from './repeat-every.ts';

describe('repeatEvery', () => {
  it('calls back once per period until stopped', () => {
    const clock = new FakeClock();
    let calls = 0;
    const stop = repeatEvery(clock, 1_000, () => calls++);
    clock.advance(999);
    expect(calls).toBe(0);
    clock.advance(1);
    expect(calls).toBe(1);
    clock.advance(3_000);
    expect(calls).toBe(4);
    stop();
    clock.advance(10_000);
    expect(calls).toBe(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops when stopped from inside the callback', () => {
    const clock = new FakeClock();
    let calls = 0;
    const stop = repeatEvery(clock, 1_000, () => {
      calls++;
      stop();
    });
    clock.advance(5_000);
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
