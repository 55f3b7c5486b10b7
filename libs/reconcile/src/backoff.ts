export interface BackoffOptions {
  /** First delay. Default 800 ms (client-go reflector). */
  initialMs?: number;
  /** Ceiling before jitter. Default 30 s. */
  maxMs?: number;
  /** A run without failures this long starts over from initialMs. Default 2 min. */
  resetAfterMs?: number;
  /** Each delay is stretched by up to this fraction at random. Default 1.0 (up to twice). */
  jitter?: number;
}

/** Jittered exponential backoff that forgets past failures after a healthy stretch. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #resetAfter: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #current = 0;
  #lastFailureAt = -Infinity;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#resetAfter = options.resetAfterMs ?? 120_000;
    this.#jitter = options.jitter ?? 1.0;
    this.#random = random;
  }

  /** The delay to wait after a failure at time `now` (ms). */
  next(now: number): number {
    if (now - this.#lastFailureAt >= this.#resetAfter) this.#current = 0;
    this.#lastFailureAt = now;
    this.#current = this.#current === 0 ? this.#initial : Math.min(this.#current * 2, this.#max);
    return this.#current * (1 + this.#jitter * this.#random());
  }
}
