import { goDurationMs } from '@kok/api';

/**
 * Milliseconds in a Go duration such as `90s`, `5m` or `1h30m` (the CRD's
 * pattern). Throws a RangeError naming the text when it is not one.
 */
export function parseGoDuration(text: string): number {
  const ms = goDurationMs(text);
  if (Number.isNaN(ms))
    throw new RangeError(`${JSON.stringify(text)} is not a duration like 90s, 5m or 1h30m`);
  return ms;
}
