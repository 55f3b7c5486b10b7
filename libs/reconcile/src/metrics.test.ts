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
});
