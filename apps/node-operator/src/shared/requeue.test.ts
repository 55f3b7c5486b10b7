import { describe, expect, it } from 'vitest';
import { DRAIN_RETRY_MS, soonest, untilWake } from './requeue.ts';

describe('untilWake', () => {
  it.each([
    { wakeAt: undefined, now: 1_000, expected: undefined },
    { wakeAt: 1_500, now: 1_000, expected: 550 },
    { wakeAt: 1_000, now: 1_000, expected: 50 },
    { wakeAt: 500, now: 1_000, expected: 50 },
  ])('wakeAt $wakeAt at $now → $expected', ({ wakeAt, now, expected }) => {
    expect(untilWake(wakeAt, now)).toBe(expected);
  });
});

describe('soonest', () => {
  it.each([
    { waits: [], expected: undefined },
    { waits: [undefined, undefined], expected: undefined },
    { waits: [undefined, DRAIN_RETRY_MS], expected: { requeueAfter: DRAIN_RETRY_MS } },
    { waits: [300, DRAIN_RETRY_MS], expected: { requeueAfter: 300 } },
    { waits: [5_000, DRAIN_RETRY_MS], expected: { requeueAfter: DRAIN_RETRY_MS } },
    { waits: [0, undefined], expected: { requeueAfter: 0 } },
  ])('$waits → $expected', ({ waits, expected }) => {
    expect(soonest(...waits)).toEqual(expected);
  });
});
