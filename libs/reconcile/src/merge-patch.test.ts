import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch, mergePatchBetween } from './merge-patch.ts';

describe('mergePatchBetween', () => {
  it.each([
    [{ a: 1 }, { a: 1 }, undefined],
    [{ a: 1 }, { a: 2 }, { a: 2 }],
    [{ a: 1, b: 2 }, { a: 1 }, { b: null }],
    [{ m: { x: 1, y: 2 } }, { m: { x: 1, y: 3 } }, { m: { y: 3 } }],
    [{ l: [1, 2] }, { l: [1] }, { l: [1] }],
    [{}, { m: { x: 1 } }, { m: { x: 1 } }],
  ])('%j → %j is %j', (before, after, expected) => {
    expect(mergePatchBetween(before, after)).toEqual(expected);
  });

  // null values have a special meaning in merge patches, so the generated objects avoid them.
  const value = fc.letrec((tie) => ({
    json: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.array(tie('json'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('json'), { maxKeys: 4 }),
    ),
  })).json;
  const object = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), value, { maxKeys: 4 });

  it('applying the patch to before yields after (property)', () => {
    fc.assert(
      fc.property(object, object, (before, after) => {
        const patch = mergePatchBetween(before, after);
        expect(applyMergePatch(before, patch ?? {})).toEqual(after);
      }),
    );
  });
});
