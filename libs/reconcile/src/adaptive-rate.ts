import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';

export interface AdaptiveRateOptions {
  /** The rate it starts at, and never falls below except after 429s. */
  qps: number;
  /** The most it raises to: the configurable ceiling. */
  maxQps: number;
  /** Requests allowed back to back above the current rate. */
  burst: number;
  /** Default: the real clock. */
  clock?: Clock;
}

/** How much the rate grows for each second in which requests waited and none was refused. */
const RAISE_FACTOR = 1.5;
/** The rate never halves below this. */
const MIN_QPS = 1;
/** How long a 429 holds the rate down before it may rise again. */
const CALM_MS = 1_000;

/**
 * A client-side token bucket whose rate follows the apiserver: it rises while the client has more to
 * send than the rate lets through and the apiserver refuses nothing, and halves on every 429 (which
 * API Priority and Fairness answers when the client's priority level is full), sending nothing until
 * the Retry-After the apiserver gave. The apiserver's other signals say no more: its
 * X-Kubernetes-PF-* headers name the flow schema and priority level, not the seats left. So the
 * rate settles just under the point where the apiserver starts to refuse, or at `maxQps`.
 */
export class AdaptiveTokenBucket {
  readonly #maxQps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #qps: number;
  #tokens: number;
  #last: number;
  /** No request goes out before this (a Retry-After). */
  #pausedUntil = 0;
  /** The rate may rise again from this time on (a second after the last raise or 429). */
  #calmFrom: number;
  /** Some request has waited for a token since the last raise: the rate is what limits the client. */
  #waited = false;

  constructor(options: AdaptiveRateOptions) {
    const { qps, maxQps, burst } = options;
    if (!(qps > 0) || !(maxQps >= qps) || !(burst >= 1))
      throw new Error(
        `adaptive rate needs 0 < qps <= maxQps and burst >= 1, got ${qps}, ${maxQps}, ${burst}`,
      );
    this.#qps = qps;
    this.#maxQps = maxQps;
    this.#burst = burst;
    this.#clock = options.clock ?? realClock;
    this.#tokens = burst;
    this.#last = this.#clock.now();
    this.#calmFrom = this.#last + CALM_MS;
  }

  /** The rate now, in requests per second. */
  get qps(): number {
    return this.#qps;
  }

  /** Takes one token; returns milliseconds until it may really be used (0 = now). */
  reserve(): number {
    const now = this.#clock.now();
    this.#raiseIfDue(now);
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#tokens -= 1;
    const wait = this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
    if (wait > 0) this.#waited = true;
    return Math.max(wait, this.#pausedUntil - now);
  }

  /** What the apiserver answered: a 429 halves the rate and pauses until its Retry-After. */
  observe(statusCode: number, retryAfterSeconds: number | undefined): void {
    if (statusCode !== 429) return;
    const now = this.#clock.now();
    this.#qps = Math.max(MIN_QPS, this.#qps / 2);
    // The tokens saved up at the old rate would otherwise go out at once.
    this.#tokens = Math.min(this.#tokens, 0);
    if (retryAfterSeconds !== undefined && retryAfterSeconds > 0)
      this.#pausedUntil = Math.max(this.#pausedUntil, now + retryAfterSeconds * 1000);
    this.#calmFrom = Math.max(now, this.#pausedUntil) + CALM_MS;
    this.#waited = false;
  }

  #raiseIfDue(now: number): void {
    if (now < this.#calmFrom) return;
    if (this.#waited && this.#qps < this.#maxQps) {
      // Tokens accrue at the old rate up to now, at the new one from now on.
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
      this.#last = now;
      this.#qps = Math.min(this.#maxQps, this.#qps * RAISE_FACTOR);
    }
    this.#waited = false;
    this.#calmFrom = now + CALM_MS;
  }
}
