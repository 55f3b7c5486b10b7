import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';

/**
 * Observations a queue reports; FrameworkMetrics.workQueueMetrics (metrics.ts)
 * is the prom-client implementation.
 */
export interface WorkQueueMetrics {
  /** An item entered the queue (duplicates of pending items do not count). */
  add(): void;
  /** Current number of items waiting to be handed out. */
  depth(n: number): void;
  /** Seconds an item waited in the queue before a worker got it. */
  queueLatency(seconds: number): void;
  /** Seconds between get and done for one item. */
  workDuration(seconds: number): void;
  /** A rate-limited re-add. */
  retry(): void;
}

export interface WorkQueueOptions {
  /** Time source for latency metrics and delays. Default: the real clock. */
  clock?: Clock;
  /** Where observations go. Default: nowhere (no per-item timing is kept). */
  metrics?: WorkQueueMetrics;
}

/** What get() resolves to: an item, or the news that the queue shut down and is empty. */
export type QueueItem<T> = { item: T; shutdown: false } | { item: undefined; shutdown: true };

const SHUTDOWN: QueueItem<never> = { item: undefined, shutdown: true };

/**
 * A work queue with client-go semantics:
 * - Stingy: an item added many times while pending is handed out once.
 * - Never concurrent: an item is not handed out again until done(item); an add
 *   during processing marks it dirty and it is queued again at done().
 * - Fair: items are handed out in the order they were first added.
 *
 * Items are compared with SameValueZero (Set semantics): use strings.
 */
export class WorkQueue<T> {
  protected readonly clock: Clock;
  readonly #metrics: WorkQueueMetrics | undefined;
  // FIFO as an array with a moving head: O(1) amortized push and shift.
  #queue: T[] = [];
  #head = 0;
  /** Items that need processing: everything queued plus processing items re-added. */
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  #waiters: ((value: QueueItem<T>) => void)[] = [];
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];
  // Only kept when metrics are on, so the hot path stays allocation-free.
  readonly #addedAt = new Map<T, number>();
  readonly #startedAt = new Map<T, number>();

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.#metrics = options.metrics;
  }

  /** Marks `item` as needing processing. No effect after shutDown(). */
  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return; // queued again by done()
    this.#enqueue(item);
  }

  #enqueue(item: T): void {
    if (this.#metrics) {
      this.#metrics.add();
      this.#addedAt.set(item, this.clock.now());
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(this.#handOut(item));
      return;
    }
    this.#queue.push(item);
    this.#metrics?.depth(this.len());
  }

  #handOut(item: T): QueueItem<T> {
    this.#dirty.delete(item);
    this.#processing.add(item);
    if (this.#metrics) {
      const now = this.clock.now();
      const addedAt = this.#addedAt.get(item);
      if (addedAt !== undefined) this.#metrics.queueLatency((now - addedAt) / 1000);
      this.#addedAt.delete(item);
      this.#startedAt.set(item, now);
    }
    return { item, shutdown: false };
  }

  /** Number of items waiting to be handed out (not counting those being processed). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /** Number of items handed out and not yet done. */
  processingCount(): number {
    return this.#processing.size;
  }

  /**
   * The next item without waiting, or undefined when none is queued. The
   * caller must call done(item) when finished with it.
   */
  tryGet(): T | undefined {
    if (this.len() === 0) return undefined;
    const item = this.#queue[this.#head] as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#metrics?.depth(this.len());
    return this.#handOut(item).item;
  }

  /**
   * Waits for the next item. After shutDown() queued items are still handed
   * out; once the queue is empty it resolves with `shutdown: true`.
   */
  get(): Promise<QueueItem<T>> {
    if (this.len() > 0) return Promise.resolve({ item: this.tryGet() as T, shutdown: false });
    if (this.#shuttingDown) return Promise.resolve(SHUTDOWN);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends processing of `item`; if it was re-added meanwhile it is queued again. */
  done(item: T): void {
    if (!this.#processing.delete(item)) return;
    if (this.#metrics) {
      const startedAt = this.#startedAt.get(item);
      if (startedAt !== undefined) this.#metrics.workDuration((this.clock.now() - startedAt) / 1000);
      this.#startedAt.delete(item);
    }
    if (this.#dirty.has(item)) this.#enqueue(item);
    if (this.#processing.size === 0 && this.#drainWaiters.length > 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /** Stops accepting adds; waiting get() calls resolve with `shutdown: true`. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const waiter of this.#waiters.splice(0)) waiter(SHUTDOWN);
  }

  /** shutDown(), then resolves once every item handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Seconds the items being processed have been running, summed (client-go unfinished_work_seconds). */
  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const startedAt of this.#startedAt.values()) total += now - startedAt;
    return total / 1000;
  }

  /** Seconds the longest-running item has been processed. */
  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let oldest = now;
    for (const startedAt of this.#startedAt.values()) oldest = Math.min(oldest, startedAt);
    return (now - oldest) / 1000;
  }
}
