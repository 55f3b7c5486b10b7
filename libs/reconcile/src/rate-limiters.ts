import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';

/** Decides how long an item waits before it is retried (client-go workqueue.RateLimiter). */
export interface RateLimiter<T> {
  /** Delay in milliseconds for this retry of `item`; counts the retry. */
  when(item: T): number;
  /** Stops tracking `item`: its next retry starts from the base delay. */
  forget(item: T): void;
  /** How many times `item` has been retried since it was last forgotten. */
  numRequeues(item: T): number;
}

export interface ExponentialOptions {
  /** Delay of the first retry. Default 5 ms. */
  baseDelayMs?: number;
  /** Ceiling of the delay. Default 1000 s. */
  maxDelayMs?: number;
}

/** Per item: baseDelay * 2^failures, capped at maxDelay. */
export function itemExponentialFailureRateLimiter<T>(options: ExponentialOptions = {}): RateLimiter<T> {
  const base = options.baseDelayMs ?? 5;
  const max = options.maxDelayMs ?? 1_000_000;
  const failures = new Map<T, number>();
  return {
    when(item) {
      const n = failures.get(item) ?? 0;
      failures.set(item, n + 1);
      // 2^n overflows to Infinity long after it passes any sane max; min() caps it.
      return Math.min(base * 2 ** n, max);
    },
    forget: (item) => void failures.delete(item),
    numRequeues: (item) => failures.get(item) ?? 0,
  };
}

export interface BucketOptions {
  /** Tokens added per second. Default 10. */
  qps?: number;
  /** Bucket size: retries allowed back to back. Default 100. */
  burst?: number;
  /** Default: the real clock. */
  clock?: Clock;
}

/**
 * A token bucket shared by all items: bounds the overall retry rate. Each
 * when() reserves a token and returns how long until it is available.
 */
export function bucketRateLimiter<T>(options: BucketOptions = {}): RateLimiter<T> {
  const bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100, options.clock ?? realClock);
  // The bucket is shared, so there is nothing per item to forget.
  return { when: () => bucket.reserve(), forget: () => undefined, numRequeues: () => 0 };
}

/** The larger delay of all `limiters` wins; requeues are the largest count. */
export function maxOfRateLimiter<T>(...limiters: RateLimiter<T>[]): RateLimiter<T> {
  return {
    when: (item) => limiters.reduce((max, l) => Math.max(max, l.when(item)), 0),
    forget: (item) => limiters.forEach((l) => l.forget(item)),
    numRequeues: (item) => limiters.reduce((max, l) => Math.max(max, l.numRequeues(item)), 0),
  };
}

/** The first `maxFastAttempts` retries wait fastDelay, the rest slowDelay. */
export function fastSlowRateLimiter<T>(
  fastDelayMs: number,
  slowDelayMs: number,
  maxFastAttempts: number,
): RateLimiter<T> {
  const failures = new Map<T, number>();
  return {
    when(item) {
      const n = (failures.get(item) ?? 0) + 1;
      failures.set(item, n);
      return n <= maxFastAttempts ? fastDelayMs : slowDelayMs;
    },
    forget: (item) => void failures.delete(item),
    numRequeues: (item) => failures.get(item) ?? 0,
  };
}

/** client-go's DefaultControllerRateLimiter: max of per-item exponential (5 ms→1000 s) and a 10 qps/100 burst bucket. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return maxOfRateLimiter<T>(itemExponentialFailureRateLimiter<T>(), bucketRateLimiter<T>({ clock }));
}

/** A token bucket like golang.org/x/time/rate: reserve() may go into debt and says how long to wait. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`token bucket needs qps > 0 and burst >= 1, got qps ${qps}, burst ${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes one token; returns milliseconds until it is really available (0 = now). */
  reserve(): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
  }
}
