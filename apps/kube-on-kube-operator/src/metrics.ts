import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';

/** The operator's own metrics, next to the framework's in the same registry. */
export class ClusterMetrics {
  readonly gateDuration: Histogram<'gate' | 'operation'>;

  constructor(registry: Registry) {
    this.gateDuration = new Histogram({
      name: 'kok_cluster_gate_duration_seconds',
      help: 'Time a bring-up or upgrade gate took: from its dependencies being Available to its component being Available at the desired version.',
      labelNames: ['gate', 'operation'],
      // Gates take from milliseconds (nothing to change) to many minutes (a large etcd rolling).
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    });
  }
}
