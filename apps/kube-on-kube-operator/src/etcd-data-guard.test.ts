import type { ClusterStatus } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { EtcdObservation } from './etcd/member-observation.ts';
import { etcdClaimNames, isEtcdDataLost, nextEtcdStatus } from './etcd-data-guard.ts';
import { clusterNames } from './names.ts';

const INITIALIZED: ClusterStatus = { etcd: { initializedTime: '2026-01-01T00:00:00Z' } };

describe('isEtcdDataLost', () => {
  it.each<[string, ClusterStatus | undefined, boolean, number, boolean]>([
    ['a new Cluster', undefined, false, 0, false],
    ['a Cluster whose etcd never had quorum', { phase: 'Provisioning' }, false, 0, false],
    ['the StatefulSet there', INITIALIZED, true, 0, false],
    ['the StatefulSet gone, its volumes kept', INITIALIZED, false, 3, false],
    ['the StatefulSet gone, one volume kept', INITIALIZED, false, 1, false],
    ['the StatefulSet and every volume gone', INITIALIZED, false, 0, true],
  ])('%s', (_, status, statefulSetExists, claimsLeft, lost) => {
    expect(isEtcdDataLost({ status, statefulSetExists, claimsLeft })).toBe(lost);
  });
});

describe('etcdClaimNames', () => {
  it('are the StatefulSet claim template `data` per member', () => {
    expect(etcdClaimNames(clusterNames('fleet', 'prod'), 3)).toEqual([
      'data-prod-etcd-0',
      'data-prod-etcd-1',
      'data-prod-etcd-2',
    ]);
  });
});

describe('nextEtcdStatus', () => {
  const now = new Date('2026-02-02T00:00:00Z');
  it.each<[string, ClusterStatus | undefined, boolean, ClusterStatus['etcd']]>([
    ['not yet available', undefined, false, undefined],
    ['first available', undefined, true, { initializedTime: '2026-02-02T00:00:00Z' }],
    ['available again later: the time stays', INITIALIZED, true, INITIALIZED.etcd],
    ['unavailable later: the record stays', INITIALIZED, false, INITIALIZED.etcd],
  ])('%s', (_, previous, available, expected) => {
    expect(nextEtcdStatus(previous, available, now)).toEqual(expected);
  });

  const observation: EtcdObservation = {
    members: [
      {
        name: 'a-etcd-0',
        id: '11',
        isLearner: false,
        healthy: true,
        started: true,
        peerURL: 'https://p0:2380',
      },
      {
        name: 'a-etcd-1',
        id: '12',
        isLearner: true,
        healthy: false,
        started: false,
        peerURL: 'https://p1:2380',
      },
    ],
    leader: 'a-etcd-0',
    dbSizeBytes: 20480,
    alarms: [{ member: 'a-etcd-0', alarm: 'NOSPACE' }],
    pods: [],
    claims: [],
  };

  it('reports the members, leader, DB size and alarms read this pass beside the kept time', () => {
    expect(nextEtcdStatus(INITIALIZED, true, now, observation)).toEqual({
      initializedTime: '2026-01-01T00:00:00Z',
      members: [
        { name: 'a-etcd-0', id: '11', isLearner: false, healthy: true },
        { name: 'a-etcd-1', id: '12', isLearner: true, healthy: false },
      ],
      leader: 'a-etcd-0',
      dbSizeBytes: 20480,
      alarms: [{ member: 'a-etcd-0', alarm: 'NOSPACE' }],
    });
  });

  it("records this pass's snapshot, and keeps the last one through passes that take none", () => {
    const snapshot = {
      file: 'fleet/a/a-20261203T120000000Z.db',
      time: '2026-12-03T12:00:00Z',
      member: 'a-etcd-1',
      revision: 42,
      sizeBytes: 1024,
      sha256: 'a'.repeat(64),
    };
    const taken = nextEtcdStatus(INITIALIZED, true, now, observation, snapshot);
    expect(taken?.lastSnapshot).toEqual(snapshot);
    expect(nextEtcdStatus({ etcd: taken }, false, now)).toEqual({
      ...INITIALIZED.etcd,
      lastSnapshot: snapshot,
    });
    const newer = { ...snapshot, time: '2026-12-03T13:00:00Z', revision: 50 };
    expect(nextEtcdStatus({ etcd: taken }, true, now, observation, newer)?.lastSnapshot).toEqual(newer);
  });

  it('drops the last read when no member answered this pass', () => {
    const previous: ClusterStatus = { etcd: nextEtcdStatus(INITIALIZED, true, now, observation) };
    expect(nextEtcdStatus(previous, false, now)).toEqual(INITIALIZED.etcd);
  });
});
