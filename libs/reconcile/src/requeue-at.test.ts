import { describe, expect, it } from 'vitest';
import { requeueAt } from './requeue-at.ts';

describe('requeueAt', () => {
  it.each([
    ['a future instant: the time until it, and a little', 10_000, 4_000, 6_050],
    ['now: a little later', 4_000, 4_000, 50],
    ['a passed instant: at once, and a little', 1_000, 4_000, 50],
  ])('%s', (_, at, now, requeueAfter) => expect(requeueAt(at, now)).toEqual({ requeueAfter }));
});
