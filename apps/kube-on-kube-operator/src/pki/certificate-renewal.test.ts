import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRenewalDue, renewalTime, renewBeforeMs } from './certificate-renewal.ts';

const DAY = 86_400_000;

describe('renewBeforeMs', () => {
  it.each([
    ['a 365-day leaf is renewed 30 days ahead', 365 * DAY, undefined, 30 * DAY],
    ['a 30-day leaf is renewed 10 days ahead', 30 * DAY, undefined, 10 * DAY],
    ['a 90-second leaf is renewed 30 s ahead', 90_000, undefined, 30_000],
    ['an explicit window is used as given', 365 * DAY, 60 * DAY, 60 * DAY],
    ['an explicit window is capped at half the life', 90_000, 600_000, 45_000],
  ])('%s', (_name, validity, explicit, expected) => {
    expect(renewBeforeMs(validity, explicit)).toBe(expected);
  });

  it('never makes a freshly issued leaf due', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 400 * DAY }),
        fc.option(fc.integer({ min: 0, max: 800 * DAY }), { nil: undefined }),
        (validity, explicit) => {
          const now = new Date('2030-01-01T00:00:00Z');
          const notAfter = new Date(now.getTime() + validity);
          const caNotAfter = new Date(now.getTime() + 3650 * DAY);
          expect(isRenewalDue(notAfter, caNotAfter, now, renewBeforeMs(validity, explicit))).toBe(false);
        },
      ),
    );
  });
});

describe('isRenewalDue', () => {
  const notAfter = new Date('2030-06-01T00:00:00Z');
  const ca = new Date('2035-01-01T00:00:00Z');
  it.each([
    ['before the window', new Date('2030-04-01T00:00:00Z'), ca, false],
    ['at the renewal time', renewalTime(notAfter, 30 * DAY), ca, true],
    ['inside the window', new Date('2030-05-20T00:00:00Z'), ca, true],
    ['after expiry', new Date('2030-07-01T00:00:00Z'), ca, true],
    ['a leaf that ends with its CA: renewal cannot help', new Date('2030-05-20T00:00:00Z'), notAfter, false],
  ])('%s', (_name, now, caNotAfter, due) => {
    expect(isRenewalDue(notAfter, caNotAfter, now, 30 * DAY)).toBe(due);
  });
});
