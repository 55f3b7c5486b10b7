import { describe, expect, it } from 'vitest';
import { ETCD_RECHECK_MS, etcdRecheckAfterMs, MEMBERSHIP_RECHECK_MS } from './etcd-recheck.ts';
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

describe('etcdRecheckAfterMs', () => {
  it.each([
    [
      'a membership on its way',
      { moving: true, observation: observation([true, false, true]), podsNotReady: true },
      MEMBERSHIP_RECHECK_MS,
    ],
    [
      'a member that does not answer',
      { moving: false, observation: observation([true, false, true]), podsNotReady: false },
      REFRESH_MS,
    ],
    // The read predates the loss: every member answered, but a pod went since.
    [
      'a pod not Ready, every member answering',
      { moving: false, observation: observation([true, true, true]), podsNotReady: true },
      REFRESH_MS,
    ],
    [
      'all well',
      { moving: false, observation: observation([true, true, true]), podsNotReady: false },
      ETCD_RECHECK_MS,
    ],
  ])('%s', (_, inputs, expected) => {
    expect(etcdRecheckAfterMs(inputs)).toBe(expected);
  });
});
