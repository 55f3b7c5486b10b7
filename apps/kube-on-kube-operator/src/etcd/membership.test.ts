import { describe, expect, it } from 'vitest';
import { clusterNames } from '../names.ts';
import type { EtcdMemberReport, EtcdObservation } from './member-observation.ts';
import { membershipInputsOf, membershipOf } from './membership.ts';

const names = clusterNames('ns', 'a');
const peer = (i: number) => `https://a-etcd-${i}.a-etcd.ns.svc:2380`;
const member = (i: number, extra: Partial<EtcdMemberReport> = {}): EtcdMemberReport => ({
  name: `a-etcd-${i}`,
  id: `${100 + i}`,
  isLearner: false,
  healthy: true,
  started: true,
  peerURL: peer(i),
  ...extra,
});
const observation = (
  members: EtcdMemberReport[],
  claims: EtcdObservation['claims'] = [],
): EtcdObservation => ({
  members,
  alarms: [],
  pods: [],
  claims,
});
const claim = (i: number, memberId?: string) => ({
  ordinal: i,
  name: `data-a-etcd-${i}`,
  ...(memberId ? { memberId } : {}),
});

describe('membershipInputsOf', () => {
  it.each<[string, EtcdMemberReport, EtcdObservation['claims'], boolean]>([
    ['answers: on its data', member(1), [claim(1)], false],
    [
      'silent, on the volume marked with its id: down, not lost',
      member(1, { healthy: false }),
      [claim(1, '101')],
      false,
    ],
    ['silent, on a volume not marked (made anew): lost', member(1, { healthy: false }), [claim(1)], true],
    ['silent, its volume gone: lost', member(1, { healthy: false }), [], true],
    ['silent, on a volume of another member: lost', member(1, { healthy: false }), [claim(1, '999')], true],
    [
      'a learner that never started: not lost',
      member(1, { healthy: false, started: false, isLearner: true }),
      [],
      false,
    ],
  ])('a member that %s', (_, m, claims, dataLost) => {
    expect(membershipInputsOf(observation([m], claims), names).members).toEqual([
      { ordinal: 1, id: '101', isLearner: m.isLearner, healthy: m.healthy, dataLost },
    ]);
  });

  it('names the members that raised CORRUPT, and only those of a CORRUPT alarm', () => {
    const alarms = [
      { member: 'a-etcd-2', alarm: 'CORRUPT' },
      { member: 'a-etcd-0', alarm: 'NOSPACE' },
    ];
    expect(membershipInputsOf({ ...observation([member(0)]), alarms }, names).corrupt).toEqual(['a-etcd-2']);
    expect(membershipInputsOf(observation([member(0)]), names).corrupt).toBeUndefined();
  });

  it('leaves out a member of a name not its own', () => {
    expect(membershipInputsOf(observation([member(0, { name: 'stranger' })]), names).members).toEqual([]);
  });
});

describe('membershipOf', () => {
  it('sizes the StatefulSet up to the highest member listed', () => {
    expect(membershipOf(observation([member(0), member(2)]), names)?.replicas).toBe(3);
  });

  it('names the members in the join Secret while a learner has yet to start', () => {
    expect(
      membershipOf(
        observation([member(0), member(1, { isLearner: true, started: false, healthy: false })]),
        names,
      ),
    ).toEqual({
      replicas: 2,
      join: { state: 'existing', initialCluster: `a-etcd-0=${peer(0)},a-etcd-1=${peer(1)}` },
    });
  });

  it('has nothing to join once every member started', () => {
    expect(membershipOf(observation([member(0), member(1)]), names)?.join).toEqual({ state: 'existing' });
  });

  it('decides nothing without a member of its own', () => {
    expect(membershipOf(observation([]), names)).toBeUndefined();
  });
});
