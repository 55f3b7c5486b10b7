import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * The rollout invariant as metrics: per pool, machines disrupted by kok or
 * otherwise unavailable (they share one budget), next to the budget itself.
 * kok_nodepool_disrupted_machines > kok_nodepool_max_unavailable is a bug (or
 * hosts dying on their own), worth an alert.
 */
export class PoolMetrics {
  readonly disrupted: Gauge<'pool'>;
  readonly maxUnavailable: Gauge<'pool'>;

  constructor(registry: Registry) {
    this.disrupted = new Gauge({
      name: 'kok_nodepool_disrupted_machines',
      help: 'Machines of the pool taking a place in its disruption budget: unavailable, or told a revision they do not run yet.',
      labelNames: ['pool'],
      registers: [registry],
    });
    this.maxUnavailable = new Gauge({
      name: 'kok_nodepool_max_unavailable',
      help: "The pool's maxUnavailable, resolved for its size.",
      labelNames: ['pool'],
      registers: [registry],
    });
  }

  set(pool: string, disrupted: number, maxUnavailable: number): void {
    this.disrupted.set({ pool }, disrupted);
    this.maxUnavailable.set({ pool }, maxUnavailable);
  }

  forget(pool: string): void {
    this.disrupted.remove({ pool });
    this.maxUnavailable.remove({ pool });
  }
}
