import { describe, expect, it } from 'vitest';
import { FrameworkMetrics } from './metrics.ts';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('FrameworkMetrics', () => {
  it('gives a registered controller its error, worker and queue series at 0 before any work', async () => {
    const metrics = new FrameworkMetrics();
    metrics.registerController('nodepool');
    const text = await metrics.registry.metrics();
    for (const series of [
      'kok_reconcile_errors_total{controller="nodepool"}',
      'kok_reconcile_panics_total{controller="nodepool"}',
      'kok_controller_active_workers{controller="nodepool"}',
      'kok_workqueue_adds_total{name="nodepool"}',
      'kok_workqueue_retries_total{name="nodepool"}',
      'kok_workqueue_depth{name="nodepool"}',
    ])
      expect(sample(text, series), series).toBe(0);
  });

  it('keeps counts when a controller registers again (a manager that regains leadership)', async () => {
    const metrics = new FrameworkMetrics();
    metrics.registerController('cluster');
    metrics.reconcileErrors.inc({ controller: 'cluster' });
    metrics.registerController('cluster');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'kok_reconcile_errors_total{controller="cluster"}')).toBe(1);
  });

  it('exports the process and Node.js runtime series once, however often asked', async () => {
    const metrics = new FrameworkMetrics();
    metrics.collectProcessMetrics();
    metrics.collectProcessMetrics();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text.match(/^# TYPE process_resident_memory_bytes /gm)).toHaveLength(1);
  });

  it('tells sub-millisecond reconciles apart: 0.2 ms and 0.6 ms fall in different buckets, both under 1 ms', async () => {
    const metrics = new FrameworkMetrics();
    metrics.reconcileDuration.observe({ controller: 'machine' }, 0.0002);
    metrics.reconcileDuration.observe({ controller: 'machine' }, 0.0006);
    const text = await metrics.registry.metrics();
    const bucket = (le: string) =>
      sample(text, `kok_reconcile_duration_seconds_bucket{le="${le}",controller="machine"}`);
    expect(bucket('0.0001')).toBe(0);
    expect(bucket('0.00025')).toBe(1);
    expect(bucket('0.0005')).toBe(1);
    expect(bucket('0.00075')).toBe(2);
    expect(bucket('0.001')).toBe(2);
  });
});
