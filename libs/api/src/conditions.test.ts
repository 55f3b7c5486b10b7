import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Condition } from './common-schemas.ts';
import {
  findCondition,
  changedSince,
  isConditionTrue,
  isConditionTrueSince,
  isConditionUpToDate,
  metaTime,
  removeCondition,
  setCondition,
} from './conditions.ts';
import { defined } from './testdata/defined.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('conditions', () => {
  it('adds a new condition stamped with now, in whole seconds', () => {
    const conditions = setCondition(undefined, { type: 'Available', status: 'True', reason: 'AllReady' }, t0);
    expect(conditions).toEqual([
      {
        type: 'Available',
        status: 'True',
        reason: 'AllReady',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const before = setCondition([], { type: 'Available', status: 'True', reason: 'A' }, t0);
    const after = setCondition(
      before,
      { type: 'Available', status: 'True', reason: 'B', message: 'still fine', observedGeneration: 7 },
      t1,
    );
    expect(after[0]).toEqual({
      type: 'Available',
      status: 'True',
      reason: 'B',
      message: 'still fine',
      observedGeneration: 7,
      lastTransitionTime: metaTime(t0),
    });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const before = setCondition([], { type: 'Available', status: 'True', reason: 'A' }, t0);
    const after = setCondition(before, { type: 'Available', status: 'False', reason: 'Down' }, t1);
    expect(findCondition(after, 'Available')?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
    expect(isConditionTrue(after, 'Available')).toBe(false);
  });

  it('never mutates its input and keeps one condition per type, in order', () => {
    const types = fc.constantFrom('Available', 'Progressing', 'Degraded');
    const update = fc.record({
      type: types,
      status: fc.constantFrom('True', 'False', 'Unknown' as const),
      reason: fc.constantFrom('A', 'B'),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(update, fc.integer({ min: 0, max: 1e12 }))), (steps) => {
        let conditions: Condition[] = [];
        const firstSeen: string[] = [];
        for (const [u, ms] of steps) {
          const frozen = structuredClone(conditions);
          const next = setCondition(conditions, u, new Date(ms));
          expect(conditions).toEqual(frozen);
          const before = findCondition(conditions, u.type);
          const after = defined(findCondition(next, u.type));
          if (before && before.status === u.status)
            expect(after.lastTransitionTime).toBe(before.lastTransitionTime);
          else expect(after.lastTransitionTime).toBe(metaTime(new Date(ms)));
          if (!firstSeen.includes(u.type)) firstSeen.push(u.type);
          conditions = next;
        }
        expect(conditions.map((c) => c.type)).toEqual(firstSeen);
      }),
    );
  });

  it('tells when an update would change nothing, and removes by type', () => {
    const conditions = setCondition(
      [],
      { type: 'Paused', status: 'True', reason: 'Manual', observedGeneration: 2 },
      t0,
    );
    expect(
      isConditionUpToDate(conditions, {
        type: 'Paused',
        status: 'True',
        reason: 'Manual',
        observedGeneration: 2,
      }),
    ).toBe(true);
    expect(
      isConditionUpToDate(conditions, {
        type: 'Paused',
        status: 'True',
        reason: 'Manual',
        observedGeneration: 3,
      }),
    ).toBe(false);
    expect(isConditionUpToDate(conditions, { type: 'Other', status: 'True', reason: 'Manual' })).toBe(false);
    expect(removeCondition(conditions, 'Paused')).toEqual([]);
  });
});

describe('changedSince / isConditionTrueSince', () => {
  const drained = (status: 'True' | 'False', at: string) => ({
    type: 'Drained',
    status,
    reason: 'R',
    message: '',
    lastTransitionTime: at,
  });
  it.each([
    {
      at: '2026-12-02T10:00:05Z',
      status: 'True' as const,
      since: '2026-12-02T10:00:00Z',
      changed: true,
      trueSince: true,
    },
    {
      at: '2026-12-02T10:00:00Z',
      status: 'True' as const,
      since: '2026-12-02T10:00:00.700Z',
      changed: true,
      trueSince: true,
    },
    {
      at: '2026-12-02T09:40:00Z',
      status: 'True' as const,
      since: '2026-12-02T10:00:00Z',
      changed: false,
      trueSince: false,
    },
    {
      at: '2026-12-02T10:00:05Z',
      status: 'False' as const,
      since: '2026-12-02T10:00:00Z',
      changed: true,
      trueSince: false,
    },
  ])('$status at $at, since $since', ({ at, status, since, changed, trueSince }) => {
    expect(changedSince(drained(status, at), since)).toBe(changed);
    expect(isConditionTrueSince([drained(status, at)], 'Drained', since)).toBe(trueSince);
  });
  it('is false without the condition', () => {
    expect(isConditionTrueSince([], 'Drained', '2026-12-02T10:00:00Z')).toBe(false);
  });
});
