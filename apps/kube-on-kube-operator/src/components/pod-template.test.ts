import { describe, expect, it } from 'vitest';
import { httpProbe } from './pod-template.ts';

/** The longest a probe lets a failing container go before it acts: its delay, then every failed period. */
const budgetSeconds = (probe: ReturnType<typeof httpProbe>) =>
  (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3);

describe('httpProbe', () => {
  it('asks a starting component every second from the start, for kubeadm’s 250 s budget', () => {
    const startup = httpProbe('startup', '/livez', 'https', 'HTTPS');
    expect(startup.initialDelaySeconds ?? 0).toBe(0);
    expect(startup.periodSeconds).toBe(1);
    // kubeadm: 10 s delay, then 24 failures 10 s apart.
    expect(budgetSeconds(startup)).toBe(250);
  });

  it.each([
    ['liveness', { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 8 }],
    ['readiness', { periodSeconds: 1, failureThreshold: 3 }],
  ] as const)('keeps the %s timings', (kind, timings) => {
    expect(httpProbe(kind, '/readyz', 'metrics', 'HTTP')).toMatchObject({
      httpGet: { path: '/readyz', port: 'metrics', scheme: 'HTTP' },
      ...timings,
    });
  });
});
