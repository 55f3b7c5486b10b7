import { describe, expect, it } from 'vitest';
import { isAtLeast } from './cache-sync.ts';

describe('cache catch-up', () => {
  it.each([
    [undefined, '5', false],
    ['5', '5', true],
    ['6', '5', true],
    ['10', '9', true],
    ['4', '5', false],
    ['abc', 'abd', false],
  ])('cached %s, written %s', (cached, written, expected) =>
    expect(isAtLeast(cached, written)).toBe(expected),
  );
});
