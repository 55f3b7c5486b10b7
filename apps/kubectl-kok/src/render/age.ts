/**
 * Ages as kubectl prints them (`45s`, `3m20s`, `5h`, `12d`): precise while
 * short, coarser as they grow.
 */

/** The age of `timestamp` (RFC 3339) at `now`, or `<unknown>` when it is missing or unparseable. */
export function formatAge(timestamp: string | undefined, now: Date): string {
  const since = timestamp === undefined ? NaN : Date.parse(timestamp);
  if (Number.isNaN(since)) return '<unknown>';
  return formatDuration(now.getTime() - since);
}

/** A duration in milliseconds, rounded down to the unit shown; negative durations (clock skew) show as 0s. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (hours < 3) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}
