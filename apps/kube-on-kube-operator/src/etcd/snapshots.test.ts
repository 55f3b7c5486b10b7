import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventRecorder } from '@kok/reconcile';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../metrics.ts';
import type { ClusterObject } from '../resource-types.ts';
import type { EtcdTarget, MemberApi } from './member-api.ts';
import type { EtcdMemberReport, EtcdObservation } from './member-observation.ts';
import type { LastSnapshot } from './snapshots.ts';
import { EtcdSnapshotRecords, snapshotEtcd } from './snapshots.ts';

const AT = new Date('2026-12-03T12:00:00Z');
const HOUR = 3_600_000;
const tls = { ca: 'ca', cert: 'cert', key: 'key' };
const cluster = (status?: ClusterObject['status']): ClusterObject =>
  ({
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { namespace: 'fleet', name: 'a', uid: 'uid-a' },
    spec: { version: 'v1.36.3', etcd: { backup: { intervalMinutes: 60, keep: 2 } } },
    ...(status ? { status } : {}),
  }) as ClusterObject;
const member = (i: number): EtcdMemberReport => ({
  name: `a-etcd-${i}`,
  id: `${100 + i}`,
  isLearner: false,
  healthy: true,
  started: true,
  peerURL: '',
});
const observation: EtcdObservation = {
  members: [member(0), member(1)],
  leader: 'a-etcd-0',
  alarms: [],
  pods: [0, 1].map((i) => ({
    name: `a-etcd-${i}`,
    target: { address: `10.0.0.${i + 1}`, port: 2379, serverName: `a-etcd-${i}.a-etcd.fleet.svc` },
  })),
  claims: [],
};

/** Snapshot I/O that records which member gave each snapshot; `fails` refuses them. */
function setup(fails = false) {
  const directory = mkdtempSync(join(tmpdir(), 'kok-snapshots-'));
  const saved: string[] = [];
  const events: string[] = [];
  const deps = {
    directory,
    records: new EtcdSnapshotRecords(),
    events: {
      record: (_: unknown, __: string, reason: string) => {
        events.push(reason);
        return Promise.resolve();
      },
    } as unknown as EventRecorder,
    metrics: new ClusterMetrics(new Registry()),
    log: pino({ level: 'silent' }),
    api: () => ({ status: () => Promise.resolve({ header: { revision: '42' } }) }) as unknown as MemberApi,
    save: (target: EtcdTarget) => {
      saved.push(target.serverName.split('.')[0] ?? '');
      return fails
        ? Promise.reject(new Error('etcdserver: server stopped'))
        : Promise.resolve({ sizeBytes: 1024, sha256: 'b'.repeat(64) });
    },
  };
  return { deps, saved, events, directory };
}

describe('snapshotEtcd', () => {
  it('takes a due snapshot from a follower and records it; a lost status write does not make it take another', async () => {
    const { deps, saved, events } = setup();
    const first = await snapshotEtcd(deps, cluster(), observation, tls, AT);
    expect(first.outcome.kind).toBe('taken');
    expect(first.lastSnapshot).toEqual({
      file: 'fleet/a/a-20261203T120000000Z.db',
      time: AT.toISOString(),
      member: 'a-etcd-1',
      revision: 42,
      sizeBytes: 1024,
      sha256: 'b'.repeat(64),
    });
    // The Cluster as it was before that pass's status write (lost to a conflict): nothing is due.
    const later = new Date(AT.getTime() + 60_000);
    const second = await snapshotEtcd(deps, cluster(), observation, tls, later);
    expect(second).toEqual({
      outcome: { kind: 'none', dueAt: AT.getTime() + HOUR },
      lastSnapshot: first.lastSnapshot,
    });
    expect(saved).toEqual(['a-etcd-1']);
    expect(events).toEqual(['EtcdSnapshotTaken']);
  });

  it('keeps the newer of the status and its own record', async () => {
    const { deps } = setup();
    const recorded: LastSnapshot = {
      file: 'fleet/a/a-20261203T130000000Z.db',
      time: new Date(AT.getTime() + HOUR).toISOString(),
      member: 'a-etcd-0',
      revision: 50,
      sizeBytes: 2048,
      sha256: 'c'.repeat(64),
    };
    await snapshotEtcd(deps, cluster(), observation, tls, AT);
    const pass = await snapshotEtcd(
      deps,
      cluster({ etcd: { lastSnapshot: recorded } }),
      observation,
      tls,
      AT,
    );
    expect(pass.lastSnapshot).toEqual(recorded);
  });

  it('says why a snapshot failed, pauses before the next attempt, and keeps the last good one', async () => {
    const { deps, saved, events, directory } = setup(true);
    const failed = await snapshotEtcd(deps, cluster(), observation, tls, AT);
    expect(failed.outcome).toMatchObject({ kind: 'failed', retryAt: AT.getTime() + 5 * 60_000 });
    expect(failed.outcome.kind === 'failed' && failed.outcome.message).toContain(
      'etcd snapshot from a-etcd-1 failed: etcdserver: server stopped',
    );
    expect(failed.lastSnapshot).toBeUndefined();
    const paused = await snapshotEtcd(deps, cluster(), observation, tls, new Date(AT.getTime() + 60_000));
    expect(paused.outcome).toMatchObject({ kind: 'wait', reason: 'RetryPause' });
    expect(saved).toHaveLength(1);
    expect(events).toEqual(['EtcdSnapshotFailed']);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('takes nothing without a snapshot directory, and says so', async () => {
    const { deps, saved } = setup();
    const pass = await snapshotEtcd({ ...deps, directory: undefined }, cluster(), observation, tls, AT);
    expect(pass.outcome).toMatchObject({ kind: 'wait', reason: 'NoSnapshotDirectory' });
    expect(saved).toEqual([]);
  });
});
