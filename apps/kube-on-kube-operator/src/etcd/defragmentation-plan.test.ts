import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  DefragmentationInputs,
  DefragmentationMember,
  DefragmentationPolicy,
  DefragmentationStep,
} from './defragmentation-plan.ts';
import {
  DEFAULT_FREE_SPACE_BYTES,
  DEFAULT_FREE_SPACE_PERCENT,
  defragmentationPolicyOf,
  DEFRAGMENTATION_MIN_INTERVAL_MS,
  needsDefragmentation,
  planDefragmentation,
} from './defragmentation-plan.ts';

const MiB = 1024 * 1024;
const NOW = Date.parse('2026-01-01T12:00:00Z');
const policy: DefragmentationPolicy = { enabled: true, freeSpacePercent: 50, freeSpaceBytes: 10 * MiB };
/** A member with `size` MiB of file of which `inUse` MiB in use. */
const m = (i: number, size: number, inUse: number, healthy = true): DefragmentationMember => ({
  name: `a-etcd-${i}`,
  healthy,
  dbSizeBytes: size * MiB,
  dbSizeInUseBytes: inUse * MiB,
});
const inputs = (
  members: DefragmentationMember[],
  extra: Partial<DefragmentationInputs> = {},
): DefragmentationInputs => ({
  members,
  leader: 'a-etcd-0',
  membershipSettled: true,
  lastDefragmentedAt: new Map(),
  now: NOW,
  ...extra,
});
const defragment = (i: number, size: number, inUse: number): DefragmentationStep => ({
  kind: 'defragment',
  member: `a-etcd-${i}`,
  freeBytes: (size - inUse) * MiB,
  dbSizeBytes: size * MiB,
});

describe('defragmentationPolicyOf', () => {
  it.each<[string, Parameters<typeof defragmentationPolicyOf>[0], DefragmentationPolicy]>([
    [
      'defaults: on, 50 % and 100 MiB free',
      {},
      {
        enabled: true,
        freeSpacePercent: DEFAULT_FREE_SPACE_PERCENT,
        freeSpaceBytes: DEFAULT_FREE_SPACE_BYTES,
      },
    ],
    [
      'every field as set',
      { etcd: { defragmentation: { enabled: false, freeSpacePercent: 20, freeSpaceBytes: 1024 } } },
      { enabled: false, freeSpacePercent: 20, freeSpaceBytes: 1024 },
    ],
  ])('%s', (_, spec, expected) => expect(defragmentationPolicyOf(spec)).toEqual(expected));
});

describe('needsDefragmentation', () => {
  it.each<[string, DefragmentationMember, boolean]>([
    ['half free, above the bytes', m(0, 40, 20), true],
    ['above the bytes, below the share', m(0, 40, 25), false],
    ['above the share, below the bytes', m(0, 16, 7), false],
    ['sizes unknown', { name: 'a-etcd-0', healthy: true }, false],
    ['nothing free', m(0, 40, 40), false],
  ])('%s → %s', (_, member, expected) => expect(needsDefragmentation(member, policy)).toBe(expected));
});

describe('planDefragmentation', () => {
  it.each<[string, DefragmentationInputs, DefragmentationPolicy, DefragmentationStep]>([
    ['nothing free enough: none', inputs([m(0, 40, 30), m(1, 40, 35)]), policy, { kind: 'none' }],
    [
      'a follower before the leader, even with less free',
      inputs([m(0, 100, 10), m(1, 40, 20), m(2, 40, 10)]),
      policy,
      defragment(1, 40, 20),
    ],
    [
      'the leader once no follower is due',
      inputs([m(0, 100, 10), m(1, 40, 20), m(2, 40, 10)], {
        lastDefragmentedAt: new Map([
          ['a-etcd-1', NOW - 1000],
          ['a-etcd-2', NOW - 1000],
        ]),
      }),
      policy,
      defragment(0, 100, 10),
    ],
    [
      'a member defragmented within the interval waits for it',
      inputs([m(0, 40, 30), m(1, 40, 10)], {
        lastDefragmentedAt: new Map([['a-etcd-1', NOW - DEFRAGMENTATION_MIN_INTERVAL_MS + 1]]),
      }),
      policy,
      { kind: 'none' },
    ],
    [
      'and is due again once it passed',
      inputs([m(0, 40, 30), m(1, 40, 10)], {
        lastDefragmentedAt: new Map([['a-etcd-1', NOW - DEFRAGMENTATION_MIN_INTERVAL_MS]]),
      }),
      policy,
      defragment(1, 40, 10),
    ],
    [
      'not while a member is unhealthy',
      inputs([m(0, 40, 30), m(1, 40, 10), m(2, 40, 40, false)]),
      policy,
      { kind: 'none' },
    ],
    [
      'not while the membership changes',
      inputs([m(0, 40, 30), m(1, 40, 10)], { membershipSettled: false }),
      policy,
      { kind: 'none' },
    ],
    [
      'not while another defragmentation runs',
      inputs([m(0, 40, 30), m(1, 40, 10)], { inFlight: 'a-etcd-2' }),
      policy,
      { kind: 'none' },
    ],
    [
      'not when switched off',
      inputs([m(0, 40, 30), m(1, 40, 10)]),
      { ...policy, enabled: false },
      { kind: 'none' },
    ],
    ['no members: none', inputs([]), policy, { kind: 'none' }],
  ])('%s', (_, given, withPolicy, expected) =>
    expect(planDefragmentation(given, withPolicy)).toEqual(expected),
  );
});

describe('planDefragmentation over passes', () => {
  const memberArb = (i: number) =>
    fc
      .record({
        size: fc.integer({ min: 0, max: 200 }),
        used: fc.integer({ min: 0, max: 200 }),
        healthy: fc.boolean(),
      })
      .map(({ size, used, healthy }) => m(i, size, Math.min(size, used), healthy));
  // One pass: which members etcd lists (removals), their health and sizes, whether the membership
  // settles, and whether a running defragmentation finishes.
  const passArb = fc.record({
    members: fc.tuple(memberArb(0), memberArb(1), memberArb(2), memberArb(3), memberArb(4)),
    listed: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    settled: fc.boolean(),
    finishes: fc.boolean(),
    minutes: fc.integer({ min: 0, max: 15 }),
  });

  it('keeps at most one member defragmenting, never a removed or unhealthy one, never while the membership moves', () => {
    fc.assert(
      fc.property(fc.array(passArb, { minLength: 1, maxLength: 40 }), (passes) => {
        let inFlight: string | undefined;
        let now = NOW;
        const last = new Map<string, number>();
        for (const pass of passes) {
          now += pass.minutes * 60_000;
          if (inFlight && pass.finishes) {
            last.set(inFlight, now);
            inFlight = undefined;
          }
          const members = pass.members.filter((_, i) => pass.listed[i]);
          const step = planDefragmentation(
            {
              members,
              leader: members[0]?.name,
              membershipSettled: pass.settled,
              ...(inFlight ? { inFlight } : {}),
              lastDefragmentedAt: last,
              now,
            },
            policy,
          );
          if (step.kind !== 'defragment') continue;
          expect(inFlight).toBeUndefined();
          expect(pass.settled).toBe(true);
          const chosen = members.find((x) => x.name === step.member);
          expect(chosen?.healthy).toBe(true);
          expect(members.every((x) => x.healthy)).toBe(true);
          expect(needsDefragmentation(chosen as DefragmentationMember, policy)).toBe(true);
          expect(now - (last.get(step.member) ?? -Infinity)).toBeGreaterThanOrEqual(
            DEFRAGMENTATION_MIN_INTERVAL_MS,
          );
          // A follower that is due always goes before the leader.
          if (step.member === members[0]?.name)
            expect(
              members
                .slice(1)
                .some(
                  (x) =>
                    needsDefragmentation(x, policy) &&
                    now - (last.get(x.name) ?? -Infinity) >= DEFRAGMENTATION_MIN_INTERVAL_MS,
                ),
            ).toBe(false);
          inFlight = step.member;
        }
      }),
      { numRuns: 500 },
    );
  });
});
