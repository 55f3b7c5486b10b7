import type { TimerHandle } from './clock.ts';
import type { WorkQueueOptions } from './work-queue.ts';
import { WorkQueue } from './work-queue.ts';

interface Waiting<T> {
  item: T;
  readyAt: number;
}

/**
 * A WorkQueue that can also add an item later (client-go delaying_queue).
 * An item waiting more than once keeps its earliest ready time.
 */
export class DelayingQueue<T> extends WorkQueue<T> {
  // Binary min-heap by readyAt; entries superseded by an earlier time stay in
  // the heap and are skipped when popped (#waiting holds the live one).
  #heap: Waiting<T>[] = [];
  readonly #waiting = new Map<T, Waiting<T>>();
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;

  constructor(options: WorkQueueOptions = {}) {
    super(options);
  }

  /** Adds `item` after `delayMs` milliseconds; immediately when delayMs <= 0. */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (!(delayMs > 0)) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.#waiting.get(item);
    if (existing && existing.readyAt <= readyAt) return;
    const entry = { item, readyAt };
    this.#waiting.set(item, entry);
    this.#push(entry);
    this.#armTimer();
  }

  /** Number of items waiting for their delay to pass. */
  waitingCount(): number {
    return this.#waiting.size;
  }

  override shutDown(): void {
    if (this.#timer) this.clock.cancelTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#heap = [];
    this.#waiting.clear();
    super.shutDown();
  }

  #armTimer(): void {
    const top = this.#heap[0];
    if (!top || top.readyAt >= this.#timerAt) return;
    if (this.#timer) this.clock.cancelTimer(this.#timer);
    this.#timerAt = top.readyAt;
    this.#timer = this.clock.setTimer(() => this.#fire(), top.readyAt - this.clock.now());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.clock.now();
    for (let top = this.#heap[0]; top && top.readyAt <= now; top = this.#heap[0]) {
      this.#pop();
      if (this.#waiting.get(top.item) !== top) continue; // superseded
      this.#waiting.delete(top.item);
      this.add(top.item);
    }
    this.#armTimer();
  }

  #push(entry: Waiting<T>): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Waiting<T>).readyAt <= entry.readyAt) break;
      heap[i] = heap[parent] as Waiting<T>;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Waiting<T>).readyAt < (heap[left] as Waiting<T>).readyAt
          ? right
          : left;
      if ((heap[child] as Waiting<T>).readyAt >= last.readyAt) break;
      heap[i] = heap[child] as Waiting<T>;
      i = child;
    }
    heap[i] = last;
  }
}
