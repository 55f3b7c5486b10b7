import { describe, expect, it } from 'vitest';
import { resourceVersionAtLeast } from './resource-version.ts';

describe('resourceVersionAtLeast', () => {
  it.each([
    ['nothing cached', undefined, '5', false],
    ['the same version', '5', '5', true],
    ['a newer integer', '10', '9', true],
    ['an older integer', '9', '10', false],
    ['integers beyond 2^53', '9007199254740993', '9007199254740992', true],
    ['opaque versions, equal', 'a1', 'a1', true],
    ['opaque versions, different', 'b2', 'a1', false],
    ['one integer, one opaque', '10', 'a1', false],
  ])('%s', (_, cached, written, expected) => expect(resourceVersionAtLeast(cached, written)).toBe(expected));
});
