import { describe, expect, it } from 'vitest';
import { refusingDisruptionBudget } from './drain-plan.ts';

describe('refusingDisruptionBudget', () => {
  it.each<[string, { message?: string }[] | undefined, string | undefined]>([
    [
      'a budget without room',
      [{ message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }],
      'shop/db',
    ],
    [
      'a budget the server has not processed yet',
      [{ message: 'The disruption budget db-pdb is still being processed by the server.' }],
      'shop/db-pdb',
    ],
    ['no cause', undefined, undefined],
    ['a cause naming no budget', [{ message: 'something else' }], undefined],
  ])('%s', (_, causes, expected) => {
    expect(refusingDisruptionBudget(causes, 'shop')).toBe(expected);
  });
});
