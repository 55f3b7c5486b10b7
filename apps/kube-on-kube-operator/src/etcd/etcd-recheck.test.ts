import { describe, expect, it } from 'vitest';
import {
  ETCD_RECHECK_MS,
  etcdRecheckAfterMs,
  EtcdTroubleRecord,
  MEMBERSHIP_RECHECK_MS,
  TROUBLE_FAST_RECHECK_MS,
} from './etcd-recheck.ts';
import type { EtcdObservation } from './member-observation.ts';
import { REFRESH_MS } from './member-observation.ts';

const observation = (healthy: boolean[]): EtcdObservation => ({
  members: healthy.map((h, i) => ({
    name: `c-etcd-${i}`,
    id: `${i + 1}`,
    isLearner: false,
    healthy: h,
    started: true,
    peerURL: `https://c-etcd-${i}.c-etcd.ns.svc:2380`,
  })),
  alarms: [],
  pods: [],
  claims: [],
});

const oneDown = observation([true, false, true]);
const allWell = observation([true, true, true]);

describe('etcdRecheckAfterMs', () => {
  it.each([
    [
      'a membership on its way',
      { moving: true, observation: oneDown, podsNotReady: true, troubledForMs: 0 },
      MEMBERSHIP_RECHECK_MS,
    ],
    [
      'a member that just stopped answering',
      { moving: false, observation: oneDown, podsNotReady: false, troubledForMs: 0 },
      REFRESH_MS,
    ],
    // The read predates the loss: every member answered, but a pod went since.
    [
      'a pod just not Ready, every member answering',
      { moving: false, observation: allWell, podsNotReady: true, troubledForMs: 20_000 },
      REFRESH_MS,
    ],
    [
      'a member down for longer than the fast window',
      { moving: false, observation: oneDown, podsNotReady: true, troubledForMs: TROUBLE_FAST_RECHECK_MS },
      ETCD_RECHECK_MS,
    ],
    [
      'all well',
      { moving: false, observation: allWell, podsNotReady: false, troubledForMs: 0 },
      ETCD_RECHECK_MS,
    ],
  ])('%s', (_, inputs, expected) => {
    expect(etcdRecheckAfterMs(inputs)).toBe(expected);
  });
});

describe('EtcdTroubleRecord', () => {
  it('counts a stretch of trouble from the first pass that saw it, and starts again after a break', () => {
    const record = new EtcdTroubleRecord();
    const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s));
    expect(record.troubledForMs('c', true, at(0))).toBe(0);
    expect(record.troubledForMs('c', true, at(30))).toBe(30_000);
    expect(record.troubledForMs('other', true, at(30))).toBe(0);
    expect(record.troubledForMs('c', false, at(40))).toBe(0);
    expect(record.troubledForMs('c', true, at(50))).toBe(0);
  });
});
