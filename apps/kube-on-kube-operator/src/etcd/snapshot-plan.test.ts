import { describe, expect, it } from 'vitest';
import type { SnapshotInputs, SnapshotStep } from './snapshot-plan.ts';
import {
  planSnapshot,
  SNAPSHOT_RETRY_MS,
  snapshotFileName,
  snapshotPolicyOf,
  snapshotsBeyondRetention,
} from './snapshot-plan.ts';

const HOUR = 3_600_000;
const now = Date.parse('2026-12-03T12:00:00Z');
const leader = { name: 'c-etcd-0', healthy: true, isLearner: false };
const follower = { name: 'c-etcd-1', healthy: true, isLearner: false };
const members = [leader, follower, { name: 'c-etcd-2', healthy: true, isLearner: false }];
const base: SnapshotInputs = {
  policy: { intervalMs: 6 * HOUR, keep: 3 },
  members,
  leader: 'c-etcd-0',
  now,
};

describe('planSnapshot', () => {
  const cases: [string, Partial<SnapshotInputs>, SnapshotStep][] = [
    [
      'first snapshot: due as soon as etcd answers',
      {},
      { kind: 'snapshot', member: 'c-etcd-1', requested: false },
    ],
    [
      'interval not passed since the last one: due then',
      { last: { time: now - HOUR } },
      { kind: 'none', dueAt: now + 5 * HOUR },
    ],
    [
      'interval passed',
      { last: { time: now - 6 * HOUR } },
      { kind: 'snapshot', member: 'c-etcd-1', requested: false },
    ],
    ['no schedule, no request: nothing', { policy: undefined }, { kind: 'none' }],
    [
      'no schedule, a new request',
      { policy: undefined, request: 'before-1.36' },
      { kind: 'snapshot', member: 'c-etcd-1', requested: true },
    ],
    [
      'a request the last snapshot answered: not again',
      { policy: undefined, request: 'before-1.36', last: { time: now - HOUR, request: 'before-1.36' } },
      { kind: 'none' },
    ],
    [
      'a new request before the interval passed',
      { request: 'b', last: { time: now - HOUR, request: 'a' } },
      { kind: 'snapshot', member: 'c-etcd-1', requested: true },
    ],
    [
      'an empty request asks for nothing',
      { request: '', last: { time: now - HOUR } },
      { kind: 'none', dueAt: now + 5 * HOUR },
    ],
    [
      'failed a minute ago: waits out the retry pause',
      { lastFailureAt: now - 60_000 },
      {
        kind: 'wait',
        reason: 'RetryPause',
        message: `the last snapshot failed; the next attempt is at ${new Date(now - 60_000 + SNAPSHOT_RETRY_MS).toISOString()}`,
        retryAt: now - 60_000 + SNAPSHOT_RETRY_MS,
      },
    ],
    [
      'failed longer ago than the pause: tried again',
      { lastFailureAt: now - SNAPSHOT_RETRY_MS },
      { kind: 'snapshot', member: 'c-etcd-1', requested: false },
    ],
    [
      'an interval shorter than the pause bounds it',
      { policy: { intervalMs: 60_000, keep: 3 }, lastFailureAt: now - 60_000 },
      { kind: 'snapshot', member: 'c-etcd-1', requested: false },
    ],
    [
      'a follower first, skipping an unhealthy one and a learner',
      {
        members: [
          { name: 'c-etcd-0', healthy: true, isLearner: false },
          { name: 'c-etcd-1', healthy: false, isLearner: false },
          { name: 'c-etcd-2', healthy: true, isLearner: true },
          { name: 'c-etcd-3', healthy: true, isLearner: false },
        ],
      },
      { kind: 'snapshot', member: 'c-etcd-3', requested: false },
    ],
    [
      'the leader when no follower answers',
      { members: [leader, { ...follower, healthy: false }] },
      { kind: 'snapshot', member: 'c-etcd-0', requested: false },
    ],
    [
      'a single member is its own leader',
      { members: [leader] },
      { kind: 'snapshot', member: 'c-etcd-0', requested: false },
    ],
    [
      'no voting member answers',
      { members: [{ ...leader, healthy: false }] },
      { kind: 'wait', reason: 'NoHealthyMember', message: 'no voting etcd member answers' },
    ],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    expect(planSnapshot({ ...base, ...over })).toEqual(expected);
  });
});

describe('snapshotPolicyOf', () => {
  it('reads spec.etcd.backup with its default, and nothing for an external etcd', () => {
    expect(snapshotPolicyOf({ etcd: { backup: { intervalMinutes: 30 } } })).toEqual({
      intervalMs: 30 * 60_000,
      keep: 7,
    });
    expect(snapshotPolicyOf({ etcd: { backup: { intervalMinutes: 1, keep: 2 } } })).toEqual({
      intervalMs: 60_000,
      keep: 2,
    });
    expect(snapshotPolicyOf({ etcd: {} })).toBeUndefined();
    expect(
      snapshotPolicyOf({
        etcd: {
          backup: { intervalMinutes: 1 },
          external: { endpoints: ['https://e:2379'], tlsSecretRef: { name: 's' } },
        },
      }),
    ).toBeUndefined();
  });
});

describe('snapshot files', () => {
  it('are named by UTC time, so that names sort by age', () => {
    expect(snapshotFileName('c', new Date('2026-12-03T09:05:07.042Z'))).toBe('c-20261203T090507042Z.db');
    const earlier = snapshotFileName('c', new Date('2026-12-03T09:05:07.041Z'));
    expect(earlier < snapshotFileName('c', new Date('2026-12-03T09:05:07.042Z'))).toBe(true);
  });

  it("beyond the retention: the Cluster's oldest, never another Cluster's file or a stray one", () => {
    const names = [
      'c-20261203T100000000Z.db',
      'c-20261201T100000000Z.db',
      'c-20261202T100000000Z.db',
      'c-prod-20261101T100000000Z.db',
      'c-20261130T100000000Z.db.part',
      'notes.txt',
    ];
    expect(snapshotsBeyondRetention('c', names, 1)).toEqual([
      'c-20261201T100000000Z.db',
      'c-20261202T100000000Z.db',
    ]);
    expect(snapshotsBeyondRetention('c', names, 3)).toEqual([]);
    expect(snapshotsBeyondRetention('c-prod', names, 0)).toEqual(['c-prod-20261101T100000000Z.db']);
  });
});
