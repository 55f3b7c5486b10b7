/**
 * How the agent's controller spaces the retries of a failed pass: the first
 * after `baseMs`, each next one twice as far, at most 5 minutes; a pass that
 * succeeds starts over. It also knows whether a retry is still to come, so
 * that a resync or heartbeat waits for it instead of retrying early.
 */
import type { Clock, RateLimiter } from '@kok/reconcile';
import { itemExponentialFailureRateLimiter } from '@kok/reconcile';

export const MAX_RETRY_DELAY_MS = 300_000;

export class PassRetries implements RateLimiter<string> {
  readonly #clock: Clock;
  readonly #backoff: RateLimiter<string>;
  /** When the retry of the last failed pass falls due, until a pass succeeds. */
  #dueAt: number | undefined;

  constructor(clock: Clock, baseMs: number) {
    this.#clock = clock;
    this.#backoff = itemExponentialFailureRateLimiter<string>({
      baseDelayMs: baseMs,
      maxDelayMs: MAX_RETRY_DELAY_MS,
    });
  }

  when(key: string): number {
    const delay = this.#backoff.when(key);
    const now = this.#clock.now();
    // The queue keeps the earlier of two waits for one key: so does this.
    this.#dueAt =
      this.#dueAt !== undefined && this.#dueAt > now ? Math.min(this.#dueAt, now + delay) : now + delay;
    return delay;
  }

  forget(key: string): void {
    this.#backoff.forget(key);
    this.#dueAt = undefined;
  }

  numRequeues(key: string): number {
    return this.#backoff.numRequeues(key);
  }

  /** True while the retry of a failed pass is still to come. */
  isRetryPending(): boolean {
    return this.#dueAt !== undefined && this.#clock.now() < this.#dueAt;
  }
}
