import type { Condition } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { newlyRaisedAlarm, withEtcdConditions } from './etcd-conditions.ts';
import type { EtcdObservation } from './member-observation.ts';
import type { MembershipStep } from './membership-plan.ts';

const AT = new Date('2026-01-01T12:00:00Z');
const observation = (alarms: EtcdObservation['alarms']): EtcdObservation => ({
  members: [],
  alarms,
  pods: [],
  claims: [],
});
const condition = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);

describe('withEtcdConditions: EtcdAlarm', () => {
  it.each<[string, EtcdObservation['alarms'], Partial<Condition>, RegExp]>([
    ['no alarm', [], { status: 'False', reason: 'NoAlarm' }, /no alarm/],
    [
      'NOSPACE on two members: named, with what to do',
      [
        { member: 'a-etcd-1', alarm: 'NOSPACE' },
        { member: 'a-etcd-0', alarm: 'NOSPACE' },
      ],
      { status: 'True', reason: 'NOSPACE' },
      /^etcd a-etcd-0, a-etcd-1 raised NOSPACE: .*raise the quota.*etcdctl alarm disarm.*never disarms/,
    ],
    [
      'CORRUPT goes first',
      [
        { member: 'a-etcd-0', alarm: 'NOSPACE' },
        { member: 'a-etcd-2', alarm: 'CORRUPT' },
      ],
      { status: 'True', reason: 'CORRUPT' },
      /^etcd a-etcd-2 raised CORRUPT: .*etcd a-etcd-0 raised NOSPACE/,
    ],
    [
      'NONE is no alarm',
      [{ member: 'a-etcd-0', alarm: 'NONE' }],
      { status: 'False', reason: 'NoAlarm' },
      /no alarm/,
    ],
  ])('%s', (_, alarms, expected, message) => {
    const alarm = condition(
      withEtcdConditions(undefined, observation(alarms), undefined, 4, AT),
      'EtcdAlarm',
    );
    expect(alarm).toMatchObject({ ...expected, observedGeneration: 4 });
    expect(alarm?.message).toMatch(message);
  });

  it('stays as it was without a read of etcd', () => {
    const before = withEtcdConditions(
      undefined,
      observation([{ member: 'a-etcd-0', alarm: 'NOSPACE' }]),
      undefined,
      1,
      AT,
    );
    expect(withEtcdConditions(before, undefined, undefined, 2, AT)).toEqual(before);
  });
});

describe('withEtcdConditions: EtcdMembership', () => {
  it.each<[string, MembershipStep, Partial<Condition>, string]>([
    [
      'a wait: False with the planner reason and its sentence',
      { kind: 'wait', reason: 'RemovalWouldLoseQuorum', message: 'removing member 2 would lose quorum' },
      { status: 'False', reason: 'RemovalWouldLoseQuorum' },
      'The next etcd membership change waits: removing member 2 would lose quorum.',
    ],
    [
      'settled',
      { kind: 'none' },
      { status: 'True', reason: 'AsDesired' },
      'etcd has the members spec.etcd.replicas asks for, all voting',
    ],
    [
      'a change under way',
      { kind: 'addLearner', ordinal: 3 },
      { status: 'True', reason: 'Changing' },
      'etcd membership moves toward spec.etcd.replicas, one change at a time: adding member 3 as a learner',
    ],
  ])('%s', (_, step, expected, message) => {
    const got = condition(withEtcdConditions(undefined, undefined, step, 1, AT), 'EtcdMembership');
    expect(got).toMatchObject({ ...expected, message });
  });
});

describe('newlyRaisedAlarm', () => {
  const raised = (members: string[]) =>
    withEtcdConditions(
      undefined,
      observation(members.map((member) => ({ member, alarm: 'NOSPACE' }))),
      undefined,
      1,
      AT,
    );
  it.each<[string, Condition[] | undefined, Condition[] | undefined, boolean]>([
    ['raised now', raised([]), raised(['a-etcd-0']), true],
    ['still raised, the same', raised(['a-etcd-0']), raised(['a-etcd-0']), false],
    ['raised on one more member', raised(['a-etcd-0']), raised(['a-etcd-0', 'a-etcd-1']), true],
    ['lifted', raised(['a-etcd-0']), raised([]), false],
  ])('%s → an Event: %s', (_, before, after, expected) =>
    expect(newlyRaisedAlarm(before, after) !== undefined).toBe(expected),
  );
});
