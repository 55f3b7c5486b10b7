import { describe, expect, it } from 'vitest';
import { setupRetryDelayMs } from './setup-retry.ts';

describe('setupRetryDelayMs', () => {
  it.each([
    [0, 0],
    [1, 500],
    [2, 1_000],
    [3, 2_000],
    [5, 8_000],
    [6, 10_000],
    [1_000, 10_000],
  ])('after %i failures waits %i ms', (failures, delay) => {
    expect(setupRetryDelayMs(failures)).toBe(delay);
  });
});
