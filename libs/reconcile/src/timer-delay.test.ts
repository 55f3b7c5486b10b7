import { describe, expect, it } from 'vitest';
import { realClock } from './clock.ts';
import { MAX_TIMER_DELAY_MS, timerDelay } from './timer-delay.ts';

describe('timerDelay', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [Number.NaN, 0],
    [1.2, 2],
    [10_000, 10_000],
    [MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS],
    [2 ** 31, MAX_TIMER_DELAY_MS],
    [2 ** 31 * 1000, MAX_TIMER_DELAY_MS],
    [Number.POSITIVE_INFINITY, MAX_TIMER_DELAY_MS],
  ])('%d ms → %d ms', (ms, expected) => expect(timerDelay(ms)).toBe(expected));
});

describe('realClock', () => {
  it('does not fire a timer of more than 2^31-1 ms after 1 ms', async () => {
    let fired = false;
    const handle = realClock.setTimer(() => (fired = true), 2 ** 31 * 1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    realClock.cancelTimer(handle);
    expect(fired).toBe(false);
  });
});
