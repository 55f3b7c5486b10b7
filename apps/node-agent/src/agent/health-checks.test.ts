import { FakeClock } from '@kok/reconcile';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../agent-metrics.ts';
import type { DesiredComponent } from '../desired-state.ts';
import type { HealthCheckSpec, ProbeResult } from '../health-check.ts';
import { HealthChecks } from './health-checks.ts';

const withCheck = (name: string, healthCheck: HealthCheckSpec | undefined): DesiredComponent => ({
  name,
  version: '1',
  artifact: { url: `http://a/${name}`, sha256: 'a'.repeat(64) },
  install: { method: 'Archive' },
  service: { type: 'Process', command: [name] },
  onChange: 'restart',
  healthCheck,
});
const check = (command: string): HealthCheckSpec => ({
  exec: { command: [command] },
  periodSeconds: 1,
  failureThreshold: 2,
});

/** Probes answer from `verdicts` (by command); every timer tick's probe settles before the next step. */
function rig() {
  const clock = new FakeClock();
  const metrics = new AgentMetrics();
  const verdicts = new Map<string, boolean>();
  let probes = 0;
  let changes = 0;
  const checks = new HealthChecks({
    clock,
    expand: (text) => text,
    onChange: () => changes++,
    gauge: metrics.componentHealthy,
    log: pino({ level: 'silent' }),
    probe: (spec): Promise<ProbeResult> => {
      probes++;
      const ok = verdicts.get(spec.exec?.command[0] ?? '') ?? true;
      return Promise.resolve({ ok, message: ok ? 'exec check passed' : 'exec check exited 1' });
    },
  });
  const tick = async (seconds = 1) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const gauge = async (component: string) =>
    (await metrics.componentHealthy.get()).values.find((v) => v.labels.component === component)?.value;
  return { checks, verdicts, tick, gauge, probes: () => probes, changes: () => changes };
}

describe('HealthChecks', () => {
  it('checks only components with a health check, and reports each changed verdict once', async () => {
    const r = rig();
    r.checks.sync([withCheck('kubelet', check('kubelet-ok')), withCheck('tool', undefined)]);
    expect(r.checks.tracker('kubelet')?.health).toBe('Unknown');
    expect(r.checks.tracker('tool')).toBeUndefined();
    await r.tick();
    expect(r.checks.tracker('kubelet')?.health).toBe('Healthy');
    expect(await r.gauge('kubelet')).toBe(1);
    expect(r.changes()).toBe(1);
    await r.tick(3);
    expect(r.changes()).toBe(1);
    r.verdicts.set('kubelet-ok', false);
    await r.tick();
    expect(r.checks.tracker('kubelet')?.health).toBe('Healthy');
    await r.tick();
    expect(r.checks.tracker('kubelet')?.health).toBe('Failed');
    expect(await r.gauge('kubelet')).toBe(0);
    expect(r.changes()).toBe(2);
  });

  it('starts over when the check changes, and drops the check and its series when the component goes', async () => {
    const r = rig();
    r.checks.sync([withCheck('kubelet', check('a'))]);
    await r.tick();
    const first = r.checks.tracker('kubelet');
    r.checks.sync([withCheck('kubelet', check('a'))]);
    expect(r.checks.tracker('kubelet')).toBe(first);
    r.checks.sync([withCheck('kubelet', check('b'))]);
    expect(r.checks.tracker('kubelet')).not.toBe(first);
    expect(r.checks.tracker('kubelet')?.health).toBe('Unknown');
    r.checks.sync([]);
    expect(r.checks.tracker('kubelet')).toBeUndefined();
    expect(await r.gauge('kubelet')).toBeUndefined();
    const probes = r.probes();
    await r.tick(5);
    expect(r.probes()).toBe(probes);
  });

  it('a reset forgets the verdict of the process before it', async () => {
    const r = rig();
    r.checks.sync([withCheck('kubelet', check('a'))]);
    await r.tick();
    r.checks.reset('kubelet');
    expect(r.checks.tracker('kubelet')?.health).toBe('Unknown');
    expect(r.checks.tracker('kubelet')?.message).toBe('restarted; not checked yet');
  });

  it('stop ends the probes but keeps the verdicts; clear drops them', async () => {
    const r = rig();
    r.checks.sync([withCheck('kubelet', check('a'))]);
    await r.tick();
    r.checks.stop();
    const probes = r.probes();
    await r.tick(5);
    expect(r.probes()).toBe(probes);
    expect(r.checks.tracker('kubelet')?.health).toBe('Healthy');
    r.checks.clear();
    expect(r.checks.tracker('kubelet')).toBeUndefined();
  });
});
