/** Median of a non-empty sample (mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) throw new Error('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
export const round = (value, digits = 2) => Number(value.toFixed(digits));
