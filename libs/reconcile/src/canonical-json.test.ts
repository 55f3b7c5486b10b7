import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it.each([
    ['keys in any order', { b: 1, a: { d: [1, 2], c: 'x' } }, '{"a":{"c":"x","d":[1,2]},"b":1}'],
    ['undefined members left out', { a: undefined, b: null }, '{"b":null}'],
    ['undefined array items as null', [undefined, 1], '[null,1]'],
    ['array order kept', [2, 1], '[2,1]'],
    ['scalars as JSON.stringify writes them', 'a"b', '"a\\"b"'],
    ['keys escaped', { 'a"': 1 }, '{"a\\"":1}'],
  ])('%s', (_, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('gives one text for objects built in different orders', () => {
    expect(canonicalJson({ x: 1, y: { p: true, q: [{ m: 1, n: 2 }] } })).toBe(
      canonicalJson({ y: { q: [{ n: 2, m: 1 }], p: true }, x: 1 }),
    );
  });
});
