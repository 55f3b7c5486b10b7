import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { revisionsToPrune } from './revision-history.ts';

describe('revision history', () => {
  it('property: keeps at most the limit (plus revisions in use), newest first, never one in use', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 3 }),
        (numbers, limit, used) => {
          const records = numbers.map((n) => ({ name: `p-${n}`, hash: `h${n}`, number: n }));
          const inUse = new Set(used.map((n) => `h${n}`));
          const pruned = new Set(revisionsToPrune(records, inUse, limit));
          const kept = records.filter((r) => !pruned.has(r.name));
          for (const r of records) if (inUse.has(r.hash)) expect(pruned.has(r.name)).toBe(false);
          expect(kept.length).toBeLessThanOrEqual(
            Math.max(limit, records.filter((r) => inUse.has(r.hash)).length),
          );
          if (records.length > 0 && limit > inUse.size)
            expect(kept.some((r) => r.number === Math.max(...numbers))).toBe(true);
        },
      ),
    );
  });
});
