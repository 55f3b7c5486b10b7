// Reading a Prometheus text exposition (an operator's or the apiserver's /metrics) without a Prometheus.

/** Prometheus text → sum of the samples of `name` whose labels contain every `match` pair. */
export function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * The q-quantile of a Prometheus histogram (cumulative `_bucket` samples with
 * label `le`), interpolated linearly inside the bucket like histogram_quantile().
 */
export function histogramQuantile(
  text: string,
  name: string,
  match: Record<string, string>,
  q: number,
): number {
  const buckets: { le: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1] ?? '';
    buckets.push({
      le: le === '+Inf' ? Infinity : Number(le),
      count: Number(line.slice(line.lastIndexOf(' ') + 1)),
    });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}
