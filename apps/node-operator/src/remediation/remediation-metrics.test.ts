import type { RemediationPolicy } from '@kok/api';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RemediationMetrics } from './remediation-metrics.ts';
import type { RemediationPolicyObject } from '@kok/api';

function policy(name: string, status?: RemediationPolicy['status']): RemediationPolicyObject {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'RemediationPolicy',
    metadata: { name },
    spec: {
      selector: { matchLabels: { pool: 'workers' } },
      unhealthyConditions: [{ type: 'Ready', status: 'False', duration: '5m' }],
      actions: [{ type: 'RestartComponent', component: 'kubelet' }, { type: 'Reboot' }],
    },
    ...(status ? { status } : {}),
  } as RemediationPolicyObject;
}

function storm(status: 'True' | 'False', reason: string) {
  return {
    type: 'StormActive',
    status,
    reason,
    message: '',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('remediation metrics', () => {
  it('reads storm_active 1 while StormActive is True, 0 otherwise, with the status counts', async () => {
    const registry = new Registry();
    new RemediationMetrics(registry, {
      list: () => [
        policy('storming', {
          expectedMachines: 10,
          currentHealthy: 4,
          remediationsAllowed: 0,
          inFlightRemediations: 0,
          conditions: [storm('True', 'TooManyUnhealthy')],
        }),
        policy('calm', {
          expectedMachines: 10,
          currentHealthy: 9,
          remediationsAllowed: 3,
          inFlightRemediations: 1,
          conditions: [storm('False', 'StormEnded')],
        }),
      ],
    });
    const text = await registry.metrics();
    expect(sample(text, 'kok_remediation_storm_active{policy="storming"}')).toBe(1);
    expect(sample(text, 'kok_remediation_storm_active{policy="calm"}')).toBe(0);
    expect(sample(text, 'kok_remediation_expected_machines{policy="storming"}')).toBe(10);
    expect(sample(text, 'kok_remediation_healthy_machines{policy="storming"}')).toBe(4);
    expect(sample(text, 'kok_remediation_allowed_machines{policy="calm"}')).toBe(3);
    expect(sample(text, 'kok_remediation_in_flight_machines{policy="calm"}')).toBe(1);
  });

  it('gives a new policy every series at 0, its action counters included', async () => {
    const registry = new Registry();
    new RemediationMetrics(registry, { list: () => [policy('new')] });
    const text = await registry.metrics();
    expect(sample(text, 'kok_remediation_storm_active{policy="new"}')).toBe(0);
    expect(sample(text, 'kok_remediation_actions_total{policy="new",action="RestartComponent"}')).toBe(0);
    expect(sample(text, 'kok_remediation_actions_total{policy="new",action="Reboot"}')).toBe(0);
  });

  it('counts actions issued, and a scrape never resets the count', async () => {
    const registry = new Registry();
    const metrics = new RemediationMetrics(registry, { list: () => [policy('p')] });
    metrics.actions.inc({ policy: 'p', action: 'Reboot' });
    metrics.actions.inc({ policy: 'p', action: 'Reboot' });
    await registry.metrics();
    const text = await registry.metrics();
    expect(sample(text, 'kok_remediation_actions_total{policy="p",action="Reboot"}')).toBe(2);
    expect(sample(text, 'kok_remediation_actions_total{policy="p",action="RestartComponent"}')).toBe(0);
  });
});
