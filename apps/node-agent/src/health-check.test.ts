import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '@kok/reconcile/timer-delay';
import { healthCheckTimings, HealthTracker, probe } from './health-check.ts';
import type { Health } from './health-check.ts';

const ok = { ok: true, message: 'exec check passed' };
const bad = { ok: false, message: 'exec check exited 1' };

describe('HealthTracker', () => {
  it.each<{ name: string; threshold: number; results: boolean[]; expected: Health }>([
    { name: 'nothing probed yet', threshold: 3, results: [], expected: 'Unknown' },
    { name: 'one pass', threshold: 3, results: [true], expected: 'Healthy' },
    { name: 'fewer failures than the threshold', threshold: 3, results: [false, false], expected: 'Unknown' },
    {
      name: 'threshold consecutive failures',
      threshold: 3,
      results: [false, false, false],
      expected: 'Failed',
    },
    {
      name: 'a pass breaks the run',
      threshold: 3,
      results: [false, false, true, false, false],
      expected: 'Healthy',
    },
    {
      name: 'healthy, then failures reach the threshold',
      threshold: 2,
      results: [true, false, false],
      expected: 'Failed',
    },
    { name: 'threshold 1 fails at once', threshold: 1, results: [false], expected: 'Failed' },
    { name: 'recovers after failing', threshold: 1, results: [false, true], expected: 'Healthy' },
  ])('$name → $expected', ({ threshold, results, expected }) => {
    const tracker = new HealthTracker(threshold, 0, 0);
    for (const result of results) tracker.record(result ? ok : bad, tracker.epoch, 1_000);
    expect(tracker.health).toBe(expected);
  });

  it('does not count failures during the initial delay after a (re)start', () => {
    const tracker = new HealthTracker(1, 10_000, 0);
    expect(tracker.record(bad, tracker.epoch, 9_999)).toBe(false);
    expect(tracker.health).toBe('Unknown');
    expect(tracker.message).toBe('starting up: exec check exited 1');
    expect(tracker.record(bad, tracker.epoch, 10_000)).toBe(true);
    expect(tracker.health).toBe('Failed');

    tracker.reset(20_000);
    tracker.record(bad, tracker.epoch, 25_000);
    expect(tracker.health).toBe('Unknown');
    tracker.record(bad, tracker.epoch, 30_000);
    expect(tracker.health).toBe('Failed');
  });

  it('counts failures at once when the process was already healthy, delay or not', () => {
    const tracker = new HealthTracker(1, 10_000, 0);
    tracker.record(ok, tracker.epoch, 1_000);
    tracker.record(bad, tracker.epoch, 2_000);
    expect(tracker.health).toBe('Failed');
  });

  it('drops a result that judged the process before the restart', () => {
    const tracker = new HealthTracker(1, 0, 0);
    const before = tracker.epoch;
    tracker.reset(1_000);
    expect(tracker.record(bad, before, 2_000)).toBe(false);
    expect(tracker.health).toBe('Unknown');
    expect(tracker.message).toBe('restarted; not checked yet');
    tracker.record(bad, tracker.epoch, 2_000);
    expect(tracker.health).toBe('Failed');
  });
});

describe('healthCheckTimings', () => {
  it.each([
    ['defaults', {}, { periodMs: 10_000, timeoutMs: 5_000, initialDelayMs: 0 }],
    [
      'as set',
      { periodSeconds: 2, timeoutSeconds: 1, initialDelaySeconds: 30 },
      { periodMs: 2_000, timeoutMs: 1_000, initialDelayMs: 30_000 },
    ],
    // Beyond 2^31-1 ms a Node.js timer fires after 1 ms: probes would spin and every check time out.
    [
      'beyond what a timer holds',
      { periodSeconds: 2 ** 31, timeoutSeconds: 2 ** 31, initialDelaySeconds: 2 ** 31 },
      { periodMs: MAX_TIMER_DELAY_MS, timeoutMs: MAX_TIMER_DELAY_MS, initialDelayMs: MAX_TIMER_DELAY_MS },
    ],
    [
      'zero',
      { periodSeconds: 0, timeoutSeconds: 0 },
      { periodMs: 1_000, timeoutMs: 1_000, initialDelayMs: 0 },
    ],
  ])('%s', (_, check, expected) => {
    expect(healthCheckTimings({ exec: { command: ['true'] }, ...check })).toEqual(expected);
  });
});

describe('probe', () => {
  const expand = (text: string) => text.replaceAll('${GREETING}', 'hello');

  it('passes an exec check that exits 0, with variables expanded', async () => {
    const result = await probe(
      { exec: { command: ['sh', '-c', 'test "$0" = hello', '${GREETING}'] } },
      expand,
    );
    expect(result).toEqual({ ok: true, message: 'exec check passed' });
  });

  it('fails an exec check with its exit code and the last line it printed', async () => {
    const result = await probe(
      { exec: { command: ['sh', '-c', 'echo first; echo "not serving" >&2; exit 3'] } },
      expand,
    );
    expect(result).toEqual({ ok: false, message: 'exec check exited 3: not serving' });
  });

  it('passes a check whose timeoutSeconds is beyond what a timer holds (it does not time out at once)', async () => {
    const result = await probe(
      { exec: { command: ['sh', '-c', 'sleep 0.2'] }, timeoutSeconds: 2 ** 31 },
      expand,
    );
    expect(result).toEqual({ ok: true, message: 'exec check passed' });
  });

  it('cuts a huge line of output to what a status message holds', async () => {
    const result = await probe(
      { exec: { command: ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x >&2; exit 1'] } },
      expand,
    );
    expect(result.ok).toBe(false);
    expect(result.message.length).toBeLessThan(1100);
    expect(result.message).toMatch(/^exec check exited 1: x+…$/);
  });

  it('judges an HTTP check by its status code', async () => {
    const server = createServer((request, response) => {
      response.statusCode = request.url === '/healthz' ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await probe({ http: { url: `http://127.0.0.1:${port}/healthz` } }, expand)).toEqual({
        ok: true,
        message: `GET http://127.0.0.1:${port}/healthz: 200`,
      });
      expect(await probe({ http: { url: `http://127.0.0.1:${port}/other` } }, expand)).toEqual({
        ok: false,
        message: `GET http://127.0.0.1:${port}/other: HTTP 503`,
      });
    } finally {
      server.close();
    }
  });

  it('fails an HTTP check nobody answers', async () => {
    const result = await probe({ http: { url: 'http://127.0.0.1:1/healthz' } }, expand);
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/healthz: /);
  });
});
