import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EtcdMember, EtcdMemberStatus, EtcdTarget, MemberApi } from './member-api.ts';
import type { EtcdMemberPod, EtcdObservation } from './member-observation.ts';
import {
  EtcdObserver,
  etcdObservationOf,
  memberChangeTarget,
  memberNameOf,
  memberPodTargets,
  ordinalOf,
  readEtcd,
  REFRESH_MS,
} from './member-observation.ts';
import { clusterNames } from '../names.ts';

const peer = (i: number) => `https://a-etcd-${i}.a-etcd.ns.svc:2380`;
const member = (i: number, extra: Partial<EtcdMember> = {}): EtcdMember => ({
  ID: `${100 + i}`,
  name: `a-etcd-${i}`,
  peerURLs: [peer(i)],
  ...extra,
});
const status = (i: number, leader: number, extra: Partial<EtcdMemberStatus> = {}): EtcdMemberStatus => ({
  header: { member_id: `${100 + i}` },
  leader: `${100 + leader}`,
  dbSize: `${1000 * (i + 1)}`,
  ...extra,
});

describe('memberChangeTarget', () => {
  const pod = (i: number): EtcdMemberPod => ({
    name: `a-etcd-${i}`,
    target: { address: `10.0.0.${i}`, port: 2379, serverName: `a-etcd-${i}.a-etcd.ns.svc` },
  });
  const report = (i: number, isLearner = false) => ({
    name: `a-etcd-${i}`,
    id: `${100 + i}`,
    isLearner,
    healthy: true,
    started: true,
    peerURL: peer(i),
  });
  const observed = (pods: number[], learners: number[], leader?: number): EtcdObservation => ({
    members: [0, 1, 2].map((i) => report(i, learners.includes(i))),
    ...(leader === undefined ? {} : { leader: `a-etcd-${leader}` }),
    alarms: [],
    pods: pods.map(pod),
    claims: [],
  });
  it.each<[string, EtcdObservation, string | undefined]>([
    ['the leader, wherever it is listed', observed([0, 1, 2], [], 2), 'a-etcd-2'],
    // etcd refuses a promote sent to the learner being promoted: "rpc not supported for learner".
    ['a voter, never the learner listed first', observed([0, 1, 2], [0]), 'a-etcd-1'],
    ['a voter when the leader did not answer', observed([0, 2], [0], 1), 'a-etcd-2'],
    ['none when only learners answered', observed([0], [0], 1), undefined],
  ])('%s', (_, observation, expected) => {
    expect(memberChangeTarget(observation)?.name).toBe(expected);
  });
});

describe('ordinalOf', () => {
  it.each<[string, number | undefined]>([
    ['a-etcd-3', 3],
    ['data-a-etcd-12', 12],
    ['b-a-etcd-1x', undefined],
    ['xa-etcd-1', undefined],
  ])('%s → %s', (name, expected) => expect(ordinalOf(name, 'a-etcd')).toBe(expected));
});

describe('memberNameOf', () => {
  it.each<[string, EtcdMember, string]>([
    ['a started member: its own name', member(2), 'a-etcd-2'],
    ['a learner not yet started: the pod name in its peer URL', member(3, { name: '' }), 'a-etcd-3'],
    ['no peer URL', { ID: '1' }, ''],
  ])('%s', (_, m, expected) => expect(memberNameOf(m)).toBe(expected));
});

describe('etcdObservationOf', () => {
  it('reports each member healthy when it answered for itself, the leader by name and the largest DB', () => {
    const observed = etcdObservationOf(
      [member(1), member(0), member(2, { isLearner: true, name: '' })],
      new Map([
        ['a-etcd-0', status(0, 1, { dbSizeInUse: '400' })],
        ['a-etcd-1', status(1, 1)],
      ]),
      [{ memberID: '101', alarm: 'NOSPACE' }],
    );
    expect(observed).toEqual({
      members: [
        {
          name: 'a-etcd-0',
          id: '100',
          isLearner: false,
          healthy: true,
          started: true,
          peerURL: peer(0),
          dbSizeBytes: 1000,
          dbSizeInUseBytes: 400,
        },
        {
          name: 'a-etcd-1',
          id: '101',
          isLearner: false,
          healthy: true,
          started: true,
          peerURL: peer(1),
          dbSizeBytes: 2000,
        },
        { name: 'a-etcd-2', id: '102', isLearner: true, healthy: false, started: false, peerURL: peer(2) },
      ],
      leader: 'a-etcd-1',
      dbSizeBytes: 2000,
      alarms: [{ member: 'a-etcd-1', alarm: 'NOSPACE' }],
      pods: [],
      claims: [],
    } satisfies EtcdObservation);
  });

  it.each<[string, EtcdMemberStatus]>([
    ['answers under another id (started again without its data)', status(5, 0)],
    ['reports errors', status(0, 0, { errors: ['etcdserver: no leader'] })],
    ['lists a CORRUPT alarm among its errors', status(0, 0, { errors: ['memberID:100 alarm:CORRUPT '] })],
  ])('a member that %s is not healthy', (_, own) => {
    const observed = etcdObservationOf([member(0)], new Map([['a-etcd-0', own]]), []);
    expect(observed.members[0]?.healthy).toBe(false);
  });

  it('keeps a member healthy that lists only a NOSPACE alarm among its errors (as etcd 3.6 answers)', () => {
    const own = status(0, 0, { errors: ['memberID:3319814642761637952 alarm:NOSPACE '] });
    const observed = etcdObservationOf([member(0)], new Map([['a-etcd-0', own]]), []);
    expect(observed.members[0]?.healthy).toBe(true);
  });

  it('names no leader while no member knows one', () => {
    const observed = etcdObservationOf([member(0)], new Map([['a-etcd-0', status(0, -100)]]), []);
    expect(observed.leader).toBeUndefined();
  });
});

const pod = (i: number): EtcdMemberPod => ({
  name: `a-etcd-${i}`,
  target: { address: `127.0.0.${i + 1}`, port: 2379, serverName: `a-etcd-${i}.a-etcd.ns.svc` },
});

/** A member API in which only the listed addresses answer. */
function apiWhere(answering: ReadonlySet<string>, members: EtcdMember[]) {
  const asked: string[] = [];
  const api = (target: EtcdTarget): MemberApi => {
    const answer = <T>(value: T) => {
      asked.push(target.address);
      return answering.has(target.address)
        ? Promise.resolve(value)
        : Promise.reject(new Error(`${target.address}: no answer`));
    };
    const i = Number(target.address.split('.')[3]) - 1;
    return {
      list: () => answer(members),
      alarms: () => answer([]),
      status: () => answer(status(i, 0)),
      addLearner: () => answer({}),
      promote: () => answer({}),
      remove: () => answer({}),
      defragment: () => answer({}),
    };
  };
  return { api, asked };
}

const tls = { ca: 'ca', cert: 'cert', key: 'key' };

describe('readEtcd', () => {
  it('lists through a member that answers and marks the silent ones unhealthy', async () => {
    const { api } = apiWhere(new Set(['127.0.0.2']), [member(0), member(1)]);
    const observed = await readEtcd([pod(0), pod(1)], tls, api);
    expect(observed?.members.map((m) => [m.name, m.healthy])).toEqual([
      ['a-etcd-0', false],
      ['a-etcd-1', true],
    ]);
    // A member change goes to a pod that answered.
    expect(observed?.pods.map((p) => p.name)).toEqual(['a-etcd-1']);
  });

  it('reads nothing, and asks for no list, when no member answers', async () => {
    const { api, asked } = apiWhere(new Set(), [member(0)]);
    expect(await readEtcd([pod(0), pod(1)], tls, api)).toBeUndefined();
    // One status call each, nothing more: a silent member costs one timeout a read.
    expect(asked).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});

describe('memberPodTargets', () => {
  const names = clusterNames('ns', 'a');
  const pod = (name: string, podIP?: string, deleting = false): V1Pod => ({
    metadata: { name, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status: podIP ? { podIP } : {},
  });
  const pods = [
    pod('a-etcd-0', '10.0.0.1'),
    pod('a-etcd-1'),
    pod('a-etcd-2', '10.0.0.3', true),
    pod('other-0', '10.0.0.4'),
  ];

  it.each(['endpoint', 'pod-ip'] as const)(
    'with %s, dials only members with an address that are not being deleted',
    (dial) => {
      expect(memberPodTargets(pods, names, dial).map((p) => p.name)).toEqual(['a-etcd-0']);
    },
  );

  it('dials the DNS name or the pod address, with the DNS name as TLS server name', () => {
    const serverName = 'a-etcd-0.a-etcd.ns.svc';
    expect(memberPodTargets(pods, names, 'endpoint')[0]?.target).toEqual({
      address: serverName,
      port: 2379,
      serverName,
    });
    expect(memberPodTargets(pods, names, 'pod-ip')[0]?.target).toEqual({
      address: '10.0.0.1',
      port: 2379,
      serverName,
    });
  });
});

describe('EtcdObserver', () => {
  const names = clusterNames('ns', 'a');
  const reads = () => {
    let count = 0;
    const observer = new EtcdObserver(async () => {
      count++;
      return { members: [], alarms: [], pods: [], claims: [] };
    });
    return { observer, count: () => count };
  };

  it('reads a Cluster again only after REFRESH_MS, or at once after forget', async () => {
    const { observer, count } = reads();
    const t0 = new Date('2026-01-01T00:00:00Z');
    await observer.observe('uid', names, tls, t0);
    await observer.observe('uid', names, tls, new Date(t0.getTime() + REFRESH_MS - 1));
    expect(count()).toBe(1);
    await observer.observe('uid', names, tls, new Date(t0.getTime() + REFRESH_MS));
    expect(count()).toBe(2);
    observer.forget('uid');
    await observer.observe('uid', names, tls, new Date(t0.getTime() + REFRESH_MS));
    expect(count()).toBe(3);
    await observer.observe('other', names, tls, new Date(t0.getTime() + REFRESH_MS));
    expect(count()).toBe(4);
  });
});
