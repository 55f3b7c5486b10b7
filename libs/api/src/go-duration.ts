/**
 * Go durations (`90s`, `5m`, `1h30m`) in milliseconds: the TypeScript twin of
 * CEL's `duration()`, for rules that bound a duration field.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in `text`, or NaN when it is not a duration like 90s, 5m or 1h30m. */
export function goDurationMs(text: string): number {
  const part = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    end = part.lastIndex;
  }
  return text.length > 0 && end === text.length ? total : Number.NaN;
}
