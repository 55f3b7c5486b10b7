import type { Cluster, ClusterObject } from '@kok/api';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from './metrics.ts';

function cluster(
  namespace: string,
  name: string,
  status?: Cluster['status'],
  spec: Partial<Cluster['spec']> = {},
): ClusterObject {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { namespace, name },
    spec: { version: 'v1.36.3', ...spec },
    ...(status ? { status } : {}),
  } as ClusterObject;
}

function condition(type: string, status: 'True' | 'False') {
  return { type, status, reason: 'Test', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(clusters: ClusterObject[]): Promise<string> {
  const registry = new Registry();
  new ClusterMetrics(registry, { list: () => clusters });
  return registry.metrics();
}

describe('cluster metrics', () => {
  it('reads each condition as 1 when True and 0 otherwise, the phase one-hot', async () => {
    const text = await scrape([
      cluster('fleet', 'a', {
        phase: 'Degraded',
        conditions: [
          condition('Degraded', 'True'),
          condition('Available', 'False'),
          condition('EtcdAvailable', 'True'),
        ],
      }),
    ]);
    const labels = 'namespace="fleet",cluster="a"';
    expect(sample(text, `kok_cluster_condition{${labels},condition="Degraded"}`)).toBe(1);
    expect(sample(text, `kok_cluster_condition{${labels},condition="Available"}`)).toBe(0);
    expect(sample(text, `kok_cluster_condition{${labels},condition="EtcdAvailable"}`)).toBe(1);
    // Known conditions the status does not carry yet still have a series.
    expect(sample(text, `kok_cluster_condition{${labels},condition="SchedulerAvailable"}`)).toBe(0);
    expect(sample(text, `kok_cluster_phase{${labels},phase="Degraded"}`)).toBe(1);
    expect(sample(text, `kok_cluster_phase{${labels},phase="Ready"}`)).toBe(0);
  });

  it('exports the first certificate expiry in seconds since the epoch, and nothing before the PKI exists', async () => {
    const text = await scrape([
      cluster('fleet', 'with-pki', { certificates: { notAfter: '2027-03-01T12:00:00Z' } }),
      cluster('fleet', 'new'),
    ]);
    expect(
      sample(text, 'kok_cluster_certificate_expiry_timestamp_seconds{namespace="fleet",cluster="with-pki"}'),
    ).toBe(Date.parse('2027-03-01T12:00:00Z') / 1000);
    expect(
      sample(text, 'kok_cluster_certificate_expiry_timestamp_seconds{namespace="fleet",cluster="new"}'),
    ).toBeUndefined();
    expect(sample(text, 'kok_cluster_condition{namespace="fleet",cluster="new",condition="Degraded"}')).toBe(
      0,
    );
  });

  it('exports when the last etcd snapshot was taken while snapshots are scheduled, 0 before the first', async () => {
    const lastSnapshot = {
      file: 'fleet/a/a-20261203T120000000Z.db',
      time: '2026-12-03T12:00:00Z',
      member: 'a-etcd-1',
      revision: 42,
      sizeBytes: 1024,
      sha256: 'a'.repeat(64),
    };
    const backup = { etcd: { backup: { intervalMinutes: 60 } } };
    const text = await scrape([
      cluster('fleet', 'a', { etcd: { lastSnapshot } }, backup),
      cluster('fleet', 'new', undefined, backup),
      cluster('fleet', 'requested-once', { etcd: { lastSnapshot } }),
    ]);
    const series = (name: string) =>
      sample(text, `kok_cluster_etcd_last_snapshot_timestamp_seconds{namespace="fleet",cluster="${name}"}`);
    expect(series('a')).toBe(Date.parse('2026-12-03T12:00:00Z') / 1000);
    expect(series('new')).toBe(0);
    // A snapshot taken on request, with no schedule: nothing is due, so nothing to alert on.
    expect(series('requested-once')).toBeUndefined();
  });

  it('exports each known etcd alarm as 1 when raised and 0 otherwise, even before a member answered, and nothing for an external etcd', async () => {
    const members = [{ name: 'a-etcd-0', id: '1', isLearner: false, healthy: true }];
    const external = { endpoints: ['https://etcd-0.example:2379'], tlsSecretRef: { name: 'etcd-client' } };
    const text = await scrape([
      cluster('fleet', 'full', { etcd: { members, alarms: [{ member: 'a-etcd-0', alarm: 'NOSPACE' }] } }),
      cluster('fleet', 'fine', { etcd: { members } }),
      cluster('fleet', 'unread', { etcd: { initializedTime: '2026-01-01T00:00:00Z' } }),
      cluster('fleet', 'new'),
      cluster('fleet', 'elsewhere', undefined, { etcd: { external } }),
    ]);
    const alarm = (name: string, which: string) =>
      sample(text, `kok_cluster_etcd_alarm{namespace="fleet",cluster="${name}",alarm="${which}"}`);
    expect(alarm('full', 'NOSPACE')).toBe(1);
    expect(alarm('full', 'CORRUPT')).toBe(0);
    expect(alarm('fine', 'NOSPACE')).toBe(0);
    expect(alarm('unread', 'NOSPACE')).toBe(0);
    expect(alarm('new', 'CORRUPT')).toBe(0);
    expect(alarm('elsewhere', 'NOSPACE')).toBeUndefined();
  });

  it('counts defragmentations by result and keeps the last duration', async () => {
    const registry = new Registry();
    const metrics = new ClusterMetrics(registry);
    const labels = { namespace: 'fleet', cluster: 'a' };
    metrics.etcdDefragmentations.inc({ ...labels, result: 'succeeded' });
    metrics.etcdDefragmentations.inc({ ...labels, result: 'succeeded' });
    metrics.etcdDefragmentationDuration.set(labels, 1.5);
    const text = await registry.metrics();
    expect(
      sample(
        text,
        'kok_cluster_etcd_defragmentations_total{namespace="fleet",cluster="a",result="succeeded"}',
      ),
    ).toBe(2);
    expect(
      sample(text, 'kok_cluster_etcd_defragmentation_duration_seconds{namespace="fleet",cluster="a"}'),
    ).toBe(1.5);
  });

  it('follows the cache: a deleted Cluster loses its series on the next scrape', async () => {
    const registry = new Registry();
    let clusters = [cluster('fleet', 'a'), cluster('other', 'a')];
    new ClusterMetrics(registry, { list: () => clusters });
    const series = 'kok_cluster_condition{namespace="other",cluster="a",condition="Available"}';
    expect(sample(await registry.metrics(), series)).toBe(0);
    clusters = [cluster('fleet', 'a')];
    expect(sample(await registry.metrics(), series)).toBeUndefined();
  });
});
