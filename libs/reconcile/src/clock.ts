/**
 * Time as the framework sees it. Everything that waits or measures goes
 * through a Clock so tests can drive time by hand (see FakeClock).
 */
import { timerDelay } from './timer-delay.ts';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for cancelTimer. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

interface RealTimerHandle extends TimerHandle {
  timeout: NodeJS.Timeout;
}

let nextRealTimerId = 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // A requeueAfter from a spec duration may exceed what setTimeout holds; clamped, it waits instead of spinning.
    const timeout = setTimeout(fn, timerDelay(ms));
    // Timers never keep the process alive on their own: shutdown is explicit.
    timeout.unref();
    const handle: RealTimerHandle = { id: nextRealTimerId++, timeout };
    return handle;
  },
  cancelTimer(handle) {
    clearTimeout((handle as RealTimerHandle).timeout);
  },
};

/** Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.cancelTimer(handle);
      resolve();
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in due order, each at its
 * own instant, during advance().
 */
export class FakeClock implements Clock {
  #now: number;
  #timers: FakeTimer[] = [];
  #nextId = 1;

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return { id: timer.id };
  }

  cancelTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= target &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))
        ) {
          next = t;
        }
      }
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }
}
