import { DelayingQueue } from './delaying-queue.ts';
import type { RateLimiter } from './rate-limiters.ts';
import { defaultControllerRateLimiter } from './rate-limiters.ts';
import type { WorkQueueOptions } from './work-queue.ts';

export interface RateLimitingQueueOptions<T> extends WorkQueueOptions {
  /** Default: defaultControllerRateLimiter() on the queue's clock. */
  rateLimiter?: RateLimiter<T>;
}

/** A DelayingQueue whose retries are spaced by a RateLimiter (client-go rate_limiting_queue). */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly #limiter: RateLimiter<T>;
  readonly #onRetry: (() => void) | undefined;

  constructor(options: RateLimitingQueueOptions<T> = {}) {
    super(options);
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
    this.#onRetry = options.metrics ? () => options.metrics?.retry() : undefined;
  }

  /** Adds `item` once the rate limiter says it may be retried. */
  addRateLimited(item: T): void {
    if (this.shuttingDown()) return;
    this.#onRetry?.();
    this.addAfter(item, this.#limiter.when(item));
  }

  /** Clears the retry history of `item` (call it after a success). */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
