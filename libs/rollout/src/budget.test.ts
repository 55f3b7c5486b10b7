import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DisruptionBudget, resolveMaxUnavailable } from './budget.ts';
import { machine } from './test-support/machines.ts';

describe('resolveMaxUnavailable', () => {
  it.each([
    { value: undefined, machines: 10, expected: 1, why: 'default is 1' },
    { value: 0, machines: 10, expected: 0, why: 'an explicit 0 is kept' },
    { value: 3, machines: 10, expected: 3, why: 'a number is a machine count' },
    { value: 30, machines: 10, expected: 30, why: 'a count larger than the pool is harmless' },
    { value: '10%', machines: 100, expected: 10, why: 'exact percentage' },
    { value: '25%', machines: 10, expected: 2, why: '2.5 rounds down' },
    { value: '33%', machines: 10, expected: 3, why: '3.3 rounds down' },
    { value: '10%', machines: 5, expected: 1, why: '0.5 rounds down to 0, lifted to at least 1' },
    { value: '1%', machines: 1, expected: 1, why: 'a tiny pool still moves' },
    { value: '0%', machines: 100, expected: 0, why: 'an explicit 0% is kept' },
    { value: '100%', machines: 7, expected: 7, why: 'the whole pool' },
  ])('$value of $machines machines is $expected ($why)', ({ value, machines, expected }) => {
    expect(resolveMaxUnavailable(value, machines)).toBe(expected);
  });

  it.each([-1, 1.5, Number.NaN, 'abc', '10', '150%', '-5%', '10.5%', ' 10%'])(
    'rejects %s with a message naming the field',
    (value) => {
      expect(() => resolveMaxUnavailable(value, 10)).toThrow(/maxUnavailable must be/);
    },
  );

  it('rounds a non-zero percentage down but never below 1, and grows with the percentage', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 20_000 }),
        (percent, machines) => {
          const resolved = resolveMaxUnavailable(`${percent}%`, machines);
          expect(resolved).toBe(Math.max(1, Math.floor((machines * percent) / 100)));
          expect(resolved).toBeLessThanOrEqual(Math.max(1, machines));
          if (percent < 100) {
            expect(resolveMaxUnavailable(`${percent + 1}%`, machines)).toBeGreaterThanOrEqual(resolved);
          }
        },
      ),
    );
  });
});

describe('DisruptionBudget', () => {
  it('counts machines already unavailable, under remediation or updating as taken', () => {
    const budget = new DisruptionBudget(3, [
      machine('not-ready', { ready: false }),
      machine('remediating', { underRemediation: true }),
      machine('updating', { desiredRevision: 'r2' }),
      machine('idle'),
    ]);
    expect(budget.used).toBe(3);
    expect(budget.admit('idle')).toBe(false);
  });

  it('admits a machine that already holds a place for free, and others only while there is room', () => {
    const budget = new DisruptionBudget(2, [machine('a', { cordoned: true }), machine('b'), machine('c')]);
    expect(budget.admit('a')).toBe(true);
    expect(budget.used).toBe(1);
    expect(budget.admit('b')).toBe(true);
    expect(budget.admit('c')).toBe(false);
    expect(budget.used).toBe(2);
    expect(budget.admit('b')).toBe(true);
    expect(budget.used).toBe(2);
  });
});
