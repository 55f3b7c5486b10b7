import { CLUSTER_PHASES, ClusterConditions, findCondition } from '@kok/api';
import type { Cluster } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Where the clusters' series come from: the Cluster cache (only `list` is read). */
export interface ClusterSource {
  list(): readonly (Pick<Cluster, 'spec' | 'status'> & KubernetesObject)[];
}

/** One cluster's status as numbers, the values its series carry. */
export interface ClusterSeries {
  /** 1 for each condition that is True, 0 for every other known condition. */
  conditions: Record<string, 0 | 1>;
  /** 1 for the phase in status.phase, 0 for the others. */
  phases: Record<string, 0 | 1>;
  /** status.certificates.notAfter in seconds since the epoch; absent until the PKI exists. */
  certificateExpirySeconds?: number;
  /**
   * 1 for each known etcd alarm in status.etcd.alarms, 0 for the others, also before a member answered;
   * absent for an external etcd, whose alarms the operator does not read.
   */
  etcdAlarms?: Record<string, 0 | 1>;
  /**
   * While spec.etcd.backup schedules snapshots: status.etcd.lastSnapshot.time in seconds since the epoch, 0
   * before the first one (an alert compares it with the time; a missing series could not be told from a
   * Cluster without snapshots). Absent without a schedule.
   */
  lastSnapshotSeconds?: number;
}

/**
 * The alarms etcd raises, each a series whether raised or not: an alert compares it with 1, and a
 * metric with no series at all could not be told from a misspelt one.
 */
export const ETCD_ALARMS = ['NOSPACE', 'CORRUPT'] as const;

/** A cluster's series from its status; a cluster not reconciled yet has every condition, phase and alarm at 0. */
export function clusterSeries(cluster: Pick<Cluster, 'spec' | 'status'>): ClusterSeries {
  const status = cluster.status ?? {};
  const conditions: Record<string, 0 | 1> = {};
  for (const type of Object.values(ClusterConditions))
    conditions[type] = findCondition(status.conditions, type)?.status === 'True' ? 1 : 0;
  const phases: Record<string, 0 | 1> = Object.fromEntries(CLUSTER_PHASES.map((p) => [p, 0]));
  if (status.phase) phases[status.phase] = 1;
  const notAfter = Date.parse(status.certificates?.notAfter ?? '');
  const lastSnapshot = Date.parse(status.etcd?.lastSnapshot?.time ?? '');
  const raised = new Set((status.etcd?.alarms ?? []).map((a) => a.alarm));
  return {
    conditions,
    phases,
    ...(cluster.spec.etcd?.external === undefined
      ? { etcdAlarms: Object.fromEntries(ETCD_ALARMS.map((a) => [a, raised.has(a) ? 1 : 0])) }
      : {}),
    ...(Number.isFinite(notAfter) ? { certificateExpirySeconds: notAfter / 1000 } : {}),
    ...(cluster.spec.etcd?.backup && !cluster.spec.etcd.external
      ? { lastSnapshotSeconds: Number.isFinite(lastSnapshot) ? lastSnapshot / 1000 : 0 }
      : {}),
  };
}

/**
 * The operator's own metrics, next to the framework's in the same registry.
 * Gate durations are observed by the reconciler as gates pass; the rest are
 * read from Cluster status in the cache at scrape time, so they agree with
 * `kubectl get clusters`, exist for every Cluster and vanish with it.
 */
export class ClusterMetrics {
  readonly gateDuration: Histogram<'gate' | 'operation'>;
  readonly etcdDefragmentations: Counter<'namespace' | 'cluster' | 'result'>;
  readonly etcdDefragmentationDuration: Gauge<'namespace' | 'cluster'>;
  readonly etcdSnapshots: Counter<'namespace' | 'cluster' | 'result'>;

  constructor(registry: Registry, clusters?: ClusterSource) {
    const registers = [registry];
    this.gateDuration = new Histogram({
      name: 'kok_cluster_gate_duration_seconds',
      help: 'Time a bring-up or upgrade gate took: from its dependencies being Available to its component being Available at the desired version.',
      labelNames: ['gate', 'operation'],
      // Gates take from milliseconds (nothing to change) to many minutes (a large etcd rolling).
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.etcdDefragmentations = new Counter({
      name: 'kok_cluster_etcd_defragmentations_total',
      help: 'etcd member defragmentations the operator ran, by result (succeeded, failed).',
      labelNames: ['namespace', 'cluster', 'result'],
      registers,
    });
    this.etcdDefragmentationDuration = new Gauge({
      name: 'kok_cluster_etcd_defragmentation_duration_seconds',
      help: 'How long the last successful etcd member defragmentation of the cluster took (the member answers nothing meanwhile).',
      labelNames: ['namespace', 'cluster'],
      registers,
    });
    this.etcdSnapshots = new Counter({
      name: 'kok_cluster_etcd_snapshots_total',
      help: 'etcd snapshots the operator took (spec.etcd.backup, or asked for by annotation), by result (succeeded, failed).',
      labelNames: ['namespace', 'cluster', 'result'],
      registers,
    });
    if (!clusters) return;
    const each = (visit: (labels: { namespace: string; cluster: string }, series: ClusterSeries) => void) => {
      for (const cluster of clusters.list())
        visit(
          { namespace: cluster.metadata?.namespace ?? '', cluster: cluster.metadata?.name ?? '' },
          clusterSeries(cluster),
        );
    };
    new Gauge({
      name: 'kok_cluster_condition',
      help: '1 when the Cluster condition is True, 0 otherwise (EtcdAvailable, APIServerAvailable, …, Available, Progressing, Degraded).',
      labelNames: ['namespace', 'cluster', 'condition'],
      registers,
      collect() {
        this.reset();
        each((labels, series) => {
          for (const [condition, v] of Object.entries(series.conditions))
            this.set({ ...labels, condition }, v);
        });
      },
    });
    new Gauge({
      name: 'kok_cluster_phase',
      help: '1 for the phase in Cluster status.phase, 0 for the others.',
      labelNames: ['namespace', 'cluster', 'phase'],
      registers,
      collect() {
        this.reset();
        each((labels, series) => {
          for (const [phase, v] of Object.entries(series.phases)) this.set({ ...labels, phase }, v);
        });
      },
    });
    new Gauge({
      name: 'kok_cluster_etcd_alarm',
      help: "1 while the cluster's etcd has the alarm raised (status.etcd.alarms: NOSPACE refuses writes, CORRUPT), 0 otherwise, also while no member answered (see the EtcdAvailable condition); no series for an external etcd.",
      labelNames: ['namespace', 'cluster', 'alarm'],
      registers,
      collect() {
        this.reset();
        each((labels, series) => {
          for (const [alarm, v] of Object.entries(series.etcdAlarms ?? {})) this.set({ ...labels, alarm }, v);
        });
      },
    });
    new Gauge({
      name: 'kok_cluster_etcd_last_snapshot_timestamp_seconds',
      help: 'When the last etcd snapshot of the cluster was taken (status.etcd.lastSnapshot.time), in seconds since the epoch, for a cluster with spec.etcd.backup; 0 before its first snapshot.',
      labelNames: ['namespace', 'cluster'],
      registers,
      collect() {
        this.reset();
        each((labels, series) => {
          if (series.lastSnapshotSeconds !== undefined) this.set(labels, series.lastSnapshotSeconds);
        });
      },
    });
    new Gauge({
      name: 'kok_cluster_certificate_expiry_timestamp_seconds',
      help: "When the cluster's first certificate (leaf or CA) expires (status.certificates.notAfter), in seconds since the epoch.",
      labelNames: ['namespace', 'cluster'],
      registers,
      collect() {
        this.reset();
        each((labels, series) => {
          if (series.certificateExpirySeconds !== undefined)
            this.set(labels, series.certificateExpirySeconds);
        });
      },
    });
  }
}
