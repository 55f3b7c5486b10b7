import { describe, expect, it } from 'vitest';
import { histogramQuantile, metricSum } from './prometheus-text.ts';

const text = [
  '# HELP kok_reconcile_total Reconciles.',
  'kok_reconcile_total{controller="machine",result="success"} 7',
  'kok_reconcile_total{controller="machine",result="error"} 2',
  'kok_reconcile_total{controller="nodepool",result="success"} 3',
  'kok_reconcile_total_extra 100',
  'kok_workqueue_depth 4',
  'kok_reconcile_duration_seconds_bucket{controller="machine",le="0.001"} 5',
  'kok_reconcile_duration_seconds_bucket{controller="machine",le="0.01"} 9',
  'kok_reconcile_duration_seconds_bucket{controller="machine",le="+Inf"} 10',
].join('\n');

describe('metricSum', () => {
  it.each<{ name: string; match: Record<string, string>; sum: number }>([
    { name: 'kok_reconcile_total', match: {}, sum: 12 },
    { name: 'kok_reconcile_total', match: { controller: 'machine' }, sum: 9 },
    { name: 'kok_reconcile_total', match: { controller: 'machine', result: 'error' }, sum: 2 },
    { name: 'kok_workqueue_depth', match: {}, sum: 4 },
    { name: 'kok_missing', match: {}, sum: 0 },
  ])('$name $match → $sum (a longer name sharing the prefix is not counted)', ({ name, match, sum }) => {
    expect(metricSum(text, name, match)).toBe(sum);
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket the rank falls in, like histogram_quantile()', () => {
    expect(
      histogramQuantile(text, 'kok_reconcile_duration_seconds', { controller: 'machine' }, 0.5),
    ).toBeCloseTo(0.001);
    expect(
      histogramQuantile(text, 'kok_reconcile_duration_seconds', { controller: 'machine' }, 0.7),
    ).toBeCloseTo(0.0055);
  });

  it('is NaN without samples', () => {
    expect(
      histogramQuantile(text, 'kok_reconcile_duration_seconds', { controller: 'nodepool' }, 0.5),
    ).toBeNaN();
  });
});
