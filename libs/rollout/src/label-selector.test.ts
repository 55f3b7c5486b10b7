import { describe, expect, it } from 'vitest';
import { labelSelectorProblems, matchesSelector, type LabelSelector } from './label-selector.ts';

describe('matchesSelector', () => {
  const labels = { zone: 'a', rack: '7', canary: '' };
  it.each<[string, LabelSelector, boolean]>([
    ['empty selector matches everything', {}, true],
    ['matchLabels all equal', { matchLabels: { zone: 'a', rack: '7' } }, true],
    ['matchLabels one differs', { matchLabels: { zone: 'a', rack: '8' } }, false],
    ['matchLabels key missing', { matchLabels: { row: '1' } }, false],
    ['matchLabels empty value present', { matchLabels: { canary: '' } }, true],
    ['In with the value', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b', 'a'] }] }, true],
    ['In without the value', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'row', operator: 'In', values: ['1'] }] }, false],
    [
      'NotIn with the value',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      false,
    ],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'row', operator: 'NotIn', values: ['1'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'row', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'row', operator: 'DoesNotExist' }] }, true],
    [
      'DoesNotExist on a present key',
      { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] },
      false,
    ],
    [
      'matchLabels and matchExpressions are ANDed',
      { matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'rack', operator: 'In', values: ['8'] }] },
      false,
    ],
    [
      'a key named like an Object method is not a label',
      { matchExpressions: [{ key: 'toString', operator: 'Exists' }] },
      false,
    ],
  ])('%s', (_, selector, expected) => {
    expect(matchesSelector(labels, selector)).toBe(expected);
  });
});

describe('labelSelectorProblems', () => {
  it('names each bad requirement and what it needs', () => {
    const problems = labelSelectorProblems(
      {
        matchExpressions: [
          { key: 'zone', operator: 'In', values: [] },
          { key: 'zone', operator: 'Exists', values: ['a'] },
          { key: 'zone', operator: 'Gt' as 'In', values: ['1'] },
          { key: 'zone', operator: 'NotIn', values: ['a'] },
        ],
      },
      'rollout.waves[1].selector',
    );
    expect(problems).toEqual([
      'rollout.waves[1].selector.matchExpressions[0]: operator In needs at least one value',
      'rollout.waves[1].selector.matchExpressions[1]: operator Exists takes no values',
      'rollout.waves[1].selector.matchExpressions[2]: operator must be In, NotIn, Exists or DoesNotExist, got "Gt"',
    ]);
  });
});
