/**
 * Node.js timers hold a signed 32-bit millisecond delay: anything larger (or
 * not a finite number) fires after 1 ms instead. A delay that comes from a
 * spec (periodSeconds, a timeout, a remediation duration) goes through this
 * first, so a huge value waits long rather than spinning.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** `ms` clamped to what setTimeout/setInterval honour: 0 to 2^31-1, whole milliseconds. */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), MAX_TIMER_DELAY_MS);
}
