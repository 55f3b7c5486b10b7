import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkQueue, WorkQueueMetrics } from './work-queue.ts';

/** Buckets for queue waits, 1 ms to ~17 min (client-go's spread). */
const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1000];

/**
 * Buckets for a reconcile and a worker's time on an item, 50 µs to ~17 min: a pass that reads only
 * its caches takes well under a millisecond, and with 1 ms as the first bucket every such pass would
 * be interpolated to half of it.
 */
const reconcileDurationBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.00075, ...durationBuckets];

/**
 * The framework's Prometheus metrics, all `kok_`-prefixed with units in their
 * names, in a registry of their own so several managers can share a process.
 */
export class FrameworkMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcilePanics: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly #queues = new Map<string, WorkQueue<unknown>>();
  readonly #queueDepth: Gauge<'name'>;
  readonly #queueAdds: Counter<'name'>;
  readonly #queueLatency: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;
  readonly #retries: Counter<'name'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'kok_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue_after, error, terminal_error).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'kok_reconcile_errors_total',
      help: 'Reconciles that failed (thrown errors and rejected promises).',
      labelNames: ['controller'],
      registers,
    });
    this.reconcilePanics = new Counter({
      name: 'kok_reconcile_panics_total',
      help: 'Reconciles that threw something that is not an Error.',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'kok_reconcile_duration_seconds',
      help: 'Time one reconcile took.',
      labelNames: ['controller'],
      buckets: reconcileDurationBuckets,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'kok_controller_active_workers',
      help: 'Reconciles running now.',
      labelNames: ['controller'],
      registers,
    });
    this.#queueDepth = new Gauge({
      name: 'kok_workqueue_depth',
      help: 'Items waiting in the queue.',
      labelNames: ['name'],
      registers,
    });
    this.#queueAdds = new Counter({
      name: 'kok_workqueue_adds_total',
      help: 'Items added to the queue.',
      labelNames: ['name'],
      registers,
    });
    this.#queueLatency = new Histogram({
      name: 'kok_workqueue_queue_duration_seconds',
      help: 'Time an item waited before a worker took it.',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    });
    this.#workDuration = new Histogram({
      name: 'kok_workqueue_work_duration_seconds',
      help: 'Time a worker spent on an item.',
      labelNames: ['name'],
      buckets: reconcileDurationBuckets,
      registers,
    });
    this.#retries = new Counter({
      name: 'kok_workqueue_retries_total',
      help: 'Rate-limited re-adds.',
      labelNames: ['name'],
      registers,
    });
    const queues = this.#queues;
    new Gauge({
      name: 'kok_workqueue_unfinished_work_seconds',
      help: 'Seconds of work in progress not yet observed by work_duration; large values mean stuck workers.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name }, q.unfinishedWorkSeconds());
      },
    });
    new Gauge({
      name: 'kok_workqueue_longest_running_processor_seconds',
      help: 'Seconds the longest-running item has been in progress.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name }, q.longestRunningProcessorSeconds());
      },
    });
  }

  /**
   * Adds the process series every Prometheus client library exports (process_resident_memory_bytes,
   * process_cpu_seconds_total, nodejs_heap_size_used_bytes, nodejs_eventloop_lag_seconds, …), so
   * memory can be watched against the container's limit and the chart's V8 heap caps. Once per registry.
   */
  collectProcessMetrics(): void {
    if (this.registry.getSingleMetric('process_resident_memory_bytes')) return;
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Every counter and gauge of controller `name` (and its queue, of the same
   * name) at 0 before any work: a series that appears only on the first error
   * is invisible to rate() and to alerts until the second.
   */
  registerController(name: string): void {
    const controller = { controller: name };
    this.reconcileErrors.inc(controller, 0);
    this.reconcilePanics.inc(controller, 0);
    this.activeWorkers.inc(controller, 0);
    const queue = { name };
    this.#queueAdds.inc(queue, 0);
    this.#retries.inc(queue, 0);
    this.#queueDepth.inc(queue, 0);
  }

  /** Observation hooks for the queue called `name`. */
  workQueueMetrics(name: string): WorkQueueMetrics {
    const labels = { name };
    return {
      add: () => this.#queueAdds.inc(labels),
      depth: (n) => this.#queueDepth.set(labels, n),
      queueLatency: (s) => this.#queueLatency.observe(labels, s),
      workDuration: (s) => this.#workDuration.observe(labels, s),
      retry: () => this.#retries.inc(labels),
    };
  }

  /** Makes the queue's in-progress gauges visible (the queue replaces any older one of that name). */
  trackQueue(name: string, queue: WorkQueue<unknown>): void {
    this.#queues.set(name, queue);
  }
}
