import type { EventRecorder } from '@kok/reconcile';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../metrics.ts';
import type { ClusterObject } from '../resource-types.ts';
import { EtcdDefragmentations, defragmentEtcd } from './defragmentation.ts';
import { DEFRAGMENTATION_MIN_INTERVAL_MS } from './defragmentation-plan.ts';
import type { EtcdTarget, MemberApi } from './member-api.ts';
import type { EtcdMemberReport, EtcdObservation } from './member-observation.ts';
import type { MembershipStep } from './membership-plan.ts';

const MiB = 1024 * 1024;
const AT = new Date('2026-01-01T12:00:00Z');
const tls = { ca: 'ca', cert: 'cert', key: 'key' };
const cluster = {
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { namespace: 'fleet', name: 'a', uid: 'uid-a' },
  spec: { version: 'v1.36.3', etcd: { defragmentation: { freeSpacePercent: 20, freeSpaceBytes: MiB } } },
} as ClusterObject;
const member = (i: number, free: number, healthy = true): EtcdMemberReport => ({
  name: `a-etcd-${i}`,
  id: `${100 + i}`,
  isLearner: false,
  healthy,
  started: true,
  peerURL: '',
  dbSizeBytes: 10 * MiB,
  dbSizeInUseBytes: (10 - free) * MiB,
});
const observation = (members: EtcdMemberReport[]): EtcdObservation => ({
  members,
  leader: 'a-etcd-0',
  alarms: [],
  pods: members.map((m, i) => ({
    name: m.name,
    target: { address: `10.0.0.${i + 1}`, port: 2379, serverName: `${m.name}.a-etcd.fleet.svc` },
  })),
  claims: [],
});
const none: MembershipStep = { kind: 'none' };

/** A member API that records which member each defragmentation went to; `fails` refuses them. */
function setup(fails = false) {
  const defragmented: string[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  const api = (target: EtcdTarget) =>
    ({
      defragment: () => {
        defragmented.push(target.serverName.split('.')[0] ?? '');
        return fails ? Promise.reject(new Error('etcdserver: request timed out')) : Promise.resolve({});
      },
    }) as unknown as MemberApi;
  const recorder = {
    record: (_: unknown, type: string, reason: string, __: string, message: string) => {
      events.push({ type, reason, message });
      return Promise.resolve();
    },
  } as unknown as EventRecorder;
  const registry = new Registry();
  let clock = 0;
  const deps = {
    defragmentations: new EtcdDefragmentations(),
    events: recorder,
    metrics: new ClusterMetrics(registry),
    log: pino({ level: 'silent' }),
    api,
    elapsedMs: () => (clock += 1500),
  };
  return { deps, defragmented, events, registry };
}

describe('defragmentEtcd', () => {
  it('defragments the members one pass at a time through their own pods, followers before the leader, with an Event and the metrics each', async () => {
    const { deps, defragmented, events, registry } = setup();
    const members = [member(0, 5), member(1, 5), member(2, 5)];
    const steps = [];
    for (let pass = 0; pass < 4; pass++)
      steps.push((await defragmentEtcd(deps, cluster, observation(members), none, tls, AT)).kind);
    expect(steps).toEqual(['defragment', 'defragment', 'defragment', 'none']);
    expect(defragmented).toEqual(['a-etcd-1', 'a-etcd-2', 'a-etcd-0']);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'EtcdDefragmented'],
      ['Normal', 'EtcdDefragmented'],
      ['Normal', 'EtcdDefragmented'],
    ]);
    expect(events[2]?.message).toBe(
      'defragmented etcd member a-etcd-0 (the leader): 5.0 MiB free of 10.0 MiB given back, in 1.5 s',
    );
    const text = await registry.metrics();
    expect(text).toContain(
      'kok_cluster_etcd_defragmentations_total{namespace="fleet",cluster="a",result="succeeded"} 3',
    );
    expect(text).toContain(
      'kok_cluster_etcd_defragmentation_duration_seconds{namespace="fleet",cluster="a"} 1.5',
    );
  });

  it('does nothing while the membership changes or a member is unhealthy', async () => {
    const { deps, defragmented } = setup();
    const wait: MembershipStep = { kind: 'wait', reason: 'LearnerCatchingUp', message: '' };
    await defragmentEtcd(deps, cluster, observation([member(0, 5), member(1, 5)]), wait, tls, AT);
    await defragmentEtcd(deps, cluster, observation([member(0, 5), member(1, 5, false)]), none, tls, AT);
    expect(defragmented).toEqual([]);
  });

  it('reports a failure as a Warning and asks that member again only after the minimum interval', async () => {
    const { deps, defragmented, events } = setup(true);
    const members = observation([member(0, 0), member(1, 5)]);
    await defragmentEtcd(deps, cluster, members, none, tls, AT);
    await defragmentEtcd(deps, cluster, members, none, tls, AT);
    expect(defragmented).toEqual(['a-etcd-1']);
    expect(events.map((e) => e.reason)).toEqual(['EtcdDefragmentationFailed']);
    expect(events[0]?.message).toContain('etcdserver: request timed out');
    const later = new Date(AT.getTime() + DEFRAGMENTATION_MIN_INTERVAL_MS);
    await defragmentEtcd(deps, cluster, members, none, tls, later);
    expect(defragmented).toEqual(['a-etcd-1', 'a-etcd-1']);
  });

  it('does nothing when spec.etcd.defragmentation.enabled is false', async () => {
    const { deps, defragmented } = setup();
    const off = { ...cluster, spec: { ...cluster.spec, etcd: { defragmentation: { enabled: false } } } };
    await defragmentEtcd(
      deps,
      off as ClusterObject,
      observation([member(0, 9), member(1, 9)]),
      none,
      tls,
      AT,
    );
    expect(defragmented).toEqual([]);
  });
});
