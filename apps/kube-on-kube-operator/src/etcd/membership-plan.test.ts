import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClaimState, MembershipInputs, MembershipStep, MemberState } from './membership-plan.ts';
import { joinConfigOf, planEtcdMembership, quorumOf } from './membership-plan.ts';

const voter = (ordinal: number, extra: Partial<MemberState> = {}): MemberState => ({
  ordinal,
  id: `${100 + ordinal}`,
  isLearner: false,
  healthy: true,
  dataLost: false,
  ...extra,
});
const learner = (ordinal: number, healthy: boolean): MemberState =>
  voter(ordinal, { isLearner: true, healthy });
const claimed = (...ordinals: number[]): ClaimState[] =>
  ordinals.map((o) => ({ ordinal: o, memberId: `${100 + o}` }));

describe('planEtcdMembership', () => {
  it.each<[string, MembershipInputs, number, MembershipStep]>([
    [
      'at size: nothing',
      { members: [voter(0), voter(1), voter(2)], claims: claimed(0, 1, 2) },
      3,
      { kind: 'none' },
    ],
    [
      '1 → 3: member 1 joins as a learner',
      { members: [voter(0)], claims: claimed(0) },
      3,
      { kind: 'addLearner', ordinal: 1 },
    ],
    [
      'a learner that answers is promoted',
      { members: [voter(0), learner(1, true)], claims: claimed(0) },
      3,
      { kind: 'promote', ordinal: 1, id: '101' },
    ],
    [
      'nothing is added while a learner catches up',
      { members: [voter(0), learner(1, false)], claims: claimed(0) },
      3,
      {
        kind: 'wait',
        reason: 'LearnerCatchingUp',
        message: expect.stringContaining('learner 1 does not answer yet'),
      },
    ],
    [
      'a raised CORRUPT alarm holds every change, a lost member too, and says so instead of "does not answer"',
      {
        members: [
          voter(0, { healthy: false }),
          voter(1, { healthy: false, dataLost: true }),
          voter(2, { healthy: false }),
        ],
        claims: claimed(0, 2),
        corrupt: ['a-etcd-1', 'a-etcd-1'],
      },
      3,
      {
        kind: 'wait',
        reason: 'CorruptAlarm',
        message:
          'etcd a-etcd-1 raised CORRUPT; no member is added, promoted, removed or replaced until the alarm is disarmed',
      },
    ],
    [
      'nothing is added while a voter is unhealthy',
      { members: [voter(0), voter(1, { healthy: false }), voter(2)], claims: claimed(0, 1, 2) },
      5,
      {
        kind: 'wait',
        reason: 'MemberUnhealthy',
        message: expect.stringContaining('member 1 does not answer'),
      },
    ],
    [
      '5 → 3: the highest member goes first',
      { members: [0, 1, 2, 3, 4].map((o) => voter(o)), claims: claimed(0, 1, 2, 3, 4) },
      3,
      { kind: 'remove', ordinal: 4, id: '104' },
    ],
    [
      'then the volume of the removed member',
      { members: [0, 1, 2, 3].map((o) => voter(o)), claims: claimed(0, 1, 2, 3, 4) },
      3,
      { kind: 'deleteClaim', ordinal: 4 },
    ],
    [
      'a removal that would lose quorum waits',
      {
        members: [voter(0), voter(1, { healthy: false }), voter(2, { healthy: false })],
        claims: claimed(0, 1, 2),
      },
      1,
      {
        kind: 'wait',
        reason: 'RemovalWouldLoseQuorum',
        message: expect.stringContaining('removing member 2 would'),
      },
    ],
    [
      'removing an unhealthy surplus member keeps quorum',
      { members: [voter(0), voter(1), voter(2, { healthy: false })], claims: claimed(0, 1, 2) },
      1,
      { kind: 'remove', ordinal: 2, id: '102' },
    ],
    [
      'a learner no longer wanted is removed first',
      { members: [voter(0), voter(1), voter(2), learner(3, false)], claims: claimed(0, 1, 2) },
      3,
      { kind: 'remove', ordinal: 3, id: '103' },
    ],
    [
      'a member whose data is gone is replaced',
      {
        members: [voter(0), voter(1, { healthy: false, dataLost: true }), voter(2)],
        claims: [...claimed(0, 2), { ordinal: 1 }],
      },
      3,
      { kind: 'replace', ordinal: 1, id: '101' },
    ],
    [
      'then added again on its fresh volume',
      { members: [voter(0), voter(2)], claims: [...claimed(0, 2), { ordinal: 1 }] },
      3,
      { kind: 'addLearner', ordinal: 1 },
    ],
    [
      'a lost member is not removed when that would lose quorum',
      {
        members: [voter(0, { healthy: false }), voter(1, { healthy: false, dataLost: true }), voter(2)],
        claims: claimed(0, 2),
      },
      3,
      {
        kind: 'wait',
        reason: 'LostMemberRemovalWouldLoseQuorum',
        message: expect.stringContaining('member 1 lost its data'),
      },
    ],
    [
      'the only member is never removed, even with its data gone',
      { members: [voter(0, { healthy: false, dataLost: true })], claims: [] },
      1,
      {
        kind: 'wait',
        reason: 'LostMemberRemovalWouldLoseQuorum',
        message: expect.stringContaining('member 0 lost its data'),
      },
    ],
  ])('%s', (_, inputs, desired, expected) => {
    expect(planEtcdMembership(inputs, desired)).toEqual(expected);
  });
});

describe('joinConfigOf', () => {
  const m = (i: number, started = true) => ({ name: `e-${i}`, peerURL: `https://e-${i}:2380`, started });
  it.each([
    [
      'bootstrap: every wanted member, new',
      undefined,
      [m(0), m(1)],
      { state: 'new', initialCluster: 'e-0=https://e-0:2380,e-1=https://e-1:2380' },
    ],
    [
      'a learner yet to start: the members listed, existing',
      [m(0), m(1, false)],
      undefined,
      { state: 'existing', initialCluster: 'e-0=https://e-0:2380,e-1=https://e-1:2380' },
    ],
    ['every member started: nothing to join', [m(0), m(1)], undefined, { state: 'existing' }],
    ['no member listed, not bootstrapping', undefined, undefined, { state: 'existing' }],
  ] as const)('%s', (_, members, bootstrap, expected) => {
    expect(joinConfigOf(members, bootstrap)).toEqual(expected);
  });
});

/** The cluster a step leaves (the volume goes with a replaced member); a new learner has not started. */
function applied(state: MembershipInputs, step: MembershipStep): MembershipInputs {
  const { members, claims } = state;
  switch (step.kind) {
    case 'addLearner':
      return {
        members: [...members, { ...learner(step.ordinal, false), id: `n${step.ordinal}-${members.length}` }],
        claims,
      };
    case 'promote':
      return {
        members: members.map((m) => (m.ordinal === step.ordinal ? { ...m, isLearner: false } : m)),
        claims,
      };
    case 'remove':
      return { members: members.filter((m) => m.ordinal !== step.ordinal), claims };
    case 'replace':
      return {
        members: members.filter((m) => m.ordinal !== step.ordinal),
        claims: claims.filter((c) => c.ordinal !== step.ordinal),
      };
    case 'deleteClaim':
      return { members, claims: claims.filter((c) => c.ordinal !== step.ordinal) };
    default:
      return state;
  }
}

const hasQuorum = ({ members }: MembershipInputs) => {
  const voters = members.filter((m) => !m.isLearner);
  return voters.length > 0 && voters.filter((m) => m.healthy).length >= quorumOf(voters.length);
};

const memberArb = (ordinal: number) =>
  fc
    .record({ isLearner: fc.boolean(), healthy: fc.boolean(), dataLost: fc.boolean() })
    .map((m) => voter(ordinal, m));

/** Any membership of up to 7 of ordinals 0…7, with claims for some ordinals, marked or not. */
const stateArb: fc.Arbitrary<MembershipInputs> = fc
  .record({
    ordinals: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 7 }),
    claimOrdinals: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 8 }),
    marked: fc.boolean(),
  })
  .chain(({ ordinals, claimOrdinals, marked }) =>
    fc.tuple(...ordinals.map(memberArb)).map((members) => ({
      members,
      claims: claimOrdinals.map((o) => (marked ? { ordinal: o, memberId: `${100 + o}` } : { ordinal: o })),
    })),
  );

/** Between steps, the world moves: a learner starts, a member fails or recovers. */
const worldEventArb = fc.record({ ordinal: fc.integer({ min: 0, max: 7 }), healthy: fc.boolean() });

describe('planEtcdMembership over any sequence of steps', () => {
  it('never takes a cluster that has quorum to one that does not, whatever fails in between', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.array(
          fc.integer({ min: 1, max: 7 }).filter((n) => n % 2 === 1),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(fc.option(worldEventArb), { minLength: 1, maxLength: 40 }),
        (start, targets, events) => {
          let state = start;
          events.forEach((event, i) => {
            const desired = targets[i % targets.length] ?? 1;
            const before = hasQuorum(state);
            const step = planEtcdMembership(state, desired);
            const after = applied(state, step);
            if (before)
              expect(hasQuorum(after), `${JSON.stringify(state)} → ${JSON.stringify(step)}`).toBe(true);
            // One change a step: at most one member more or less.
            expect(Math.abs(after.members.length - state.members.length)).toBeLessThanOrEqual(1);
            if (step.kind === 'addLearner') {
              expect(state.members.every((m) => !m.isLearner && m.healthy)).toBe(true);
              expect(state.claims.some((c) => c.ordinal === step.ordinal && c.memberId !== undefined)).toBe(
                false,
              );
            }
            state = event
              ? {
                  ...after,
                  members: after.members.map((m) =>
                    m.ordinal === event.ordinal ? { ...m, healthy: event.healthy } : m,
                  ),
                }
              : after;
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reaches the wanted voters 0…n-1 from any healthy start when learners start and nothing fails', () => {
    fc.assert(
      fc.property(
        stateArb.map((s) => ({
          ...s,
          members: s.members.map((m) => ({ ...m, healthy: true, dataLost: false })),
        })),
        fc.integer({ min: 1, max: 7 }).filter((n) => n % 2 === 1),
        (start, desired) => {
          let state: MembershipInputs = start;
          for (let i = 0; i < 60; i++) {
            const step = planEtcdMembership(state, desired);
            if (step.kind === 'none') break;
            expect(step.kind).not.toBe('wait');
            // Each new learner starts and catches up before the next pass.
            state = applied(state, step);
            state = { ...state, members: state.members.map((m) => ({ ...m, healthy: true })) };
            if (step.kind === 'promote')
              state = {
                ...state,
                claims: [
                  ...state.claims.filter((c) => c.ordinal !== step.ordinal),
                  { ordinal: step.ordinal, memberId: step.id },
                ],
              };
          }
          expect(planEtcdMembership(state, desired)).toEqual({ kind: 'none' });
          expect(state.members.map((m) => m.ordinal).sort()).toEqual(
            Array.from({ length: desired }, (_, i) => i),
          );
          expect(state.members.every((m) => !m.isLearner)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
