import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './command-line.ts';

describe('parseCommandLine', () => {
  it('has documented defaults', () => {
    expect(parseCommandLine([])).toEqual({
      leaderElect: false,
      namespace: 'kok-system',
      metricsBindAddress: { host: '0.0.0.0', port: 8080 },
      metricsAuth: 'kubernetes',
      revisionHistoryLimit: 10,
      logLevel: 'info',
      stormCooldownMs: 300_000,
      qps: 100,
      burst: 200,
      maxQps: 1000,
    });
  });
  it.each([
    [['--kubeconfig', '/k', '--leader-elect'], { kubeconfig: '/k', leaderElect: true }],
    [['--metrics-bind-address', '127.0.0.1:9090'], { metricsBindAddress: { host: '127.0.0.1', port: 9090 } }],
    [['--metrics-bind-address', ':0'], { metricsBindAddress: { host: '0.0.0.0', port: 0 } }],
    [['--health-port', '8081'], { metricsBindAddress: { host: '0.0.0.0', port: 8081 } }],
    [['--metrics-auth', 'none'], { metricsAuth: 'none' }],
    [['--label-selector', 'a=b'], { labelSelector: 'a=b' }],
    [['--remediation-storm-cooldown', '1m30s'], { stormCooldownMs: 90_000 }],
    [['--kube-api-qps', '20', '--kube-api-burst', '40'], { qps: 20, burst: 40 }],
    [['--kube-api-qps', '50', '--kube-api-qps-max', '50'], { qps: 50, maxQps: 50 }],
  ])('%j', (argv, expected) => expect(parseCommandLine(argv)).toMatchObject(expected));
  it.each([
    [['--health-port', 'x'], /--health-port needs a port/],
    [['--health-port', '1', '--metrics-bind-address', ':2'], /either/],
    [['--metrics-bind-address', '9090'], /host:port/],
    [['--revision-history-limit', '0'], /at least 1/],
    [['--bogus'], /Unknown option/],
    [['--metrics-auth', 'off'], /--metrics-auth needs kubernetes or none/],
    [['--remediation-storm-cooldown', '5'], /--remediation-storm-cooldown needs a duration/],
    [['--kube-api-qps', '0'], /--kube-api-qps needs a whole number/],
    [['--kube-api-qps', '200', '--kube-api-qps-max', '100'], /--kube-api-qps-max \(100\) must be at least/],
  ])('refuses %j', (argv, message) => expect(() => parseCommandLine(argv)).toThrow(message));
});
