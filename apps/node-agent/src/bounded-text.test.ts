import { describe, expect, it } from 'vitest';
import { boundedText, MESSAGE_LIMIT } from './bounded-text.ts';

describe('boundedText', () => {
  it.each([
    ['short text is kept', 'exited 1', 16, 'exited 1'],
    ['text at the limit is kept', 'abcd', 4, 'abcd'],
    ['longer text ends in an ellipsis', 'abcdef', 4, 'abc…'],
    ['empty text stays empty', '', 4, ''],
  ])('%s', (_, text, limit, expected) => expect(boundedText(text, limit)).toBe(expected));

  it('cuts to 1 KiB by default', () => {
    const cut = boundedText('x'.repeat(1_000_000));
    expect(cut).toHaveLength(MESSAGE_LIMIT);
    expect(cut.endsWith('…')).toBe(true);
  });
});
