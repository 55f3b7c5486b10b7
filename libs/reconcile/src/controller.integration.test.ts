import { sharedKubeConfig } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import type { Request } from './controller.ts';
import { Controller, TerminalError } from './controller.ts';
import { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import { FrameworkMetrics } from './metrics.ts';
import { itemExponentialFailureRateLimiter } from './rate-limiters.ts';
import { configMap, eventually, freshNamespace } from './test-support.ts';

let client: KubeClient;

beforeAll(() => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
});
afterAll(() => client?.close());

describe('Controller', () => {
  it('retries errors with backoff, never retries TerminalError, survives throws, honours requeueAfter', async () => {
    const ns = await freshNamespace(client, 'ctrl');
    for (const name of ['rejects', 'throws', 'terminal', 'requeue', 'ok'])
      await client.create(builtinTypes.configMap, configMap(ns, name));
    const informer = new Informer({ client, type: builtinTypes.configMap, namespace: ns });
    informer.start();
    await informer.waitForSync();
    const attempts = new Map<string, number>();
    const concurrent = new Set<string>();
    let overlap = false;
    const metrics = new FrameworkMetrics();
    const controller = new Controller({
      name: 'behaviour',
      maxConcurrentReconciles: 4,
      metrics,
      rateLimiter: itemExponentialFailureRateLimiter({ baseDelayMs: 20, maxDelayMs: 200 }),
      reconcile: async (request: Request) => {
        if (concurrent.has(request.name)) overlap = true;
        concurrent.add(request.name);
        const n = (attempts.get(request.name) ?? 0) + 1;
        attempts.set(request.name, n);
        try {
          await new Promise((r) => setTimeout(r, 5));
          switch (request.name) {
            case 'rejects':
              if (n < 3) throw new Error('transient');
              return;
            case 'throws':
              if (n < 2) throw 'not even an Error';
              return;
            case 'terminal':
              throw new TerminalError('spec is invalid');
            case 'requeue':
              return n < 3 ? { requeueAfter: 50 } : {};
            default:
              return;
          }
        } finally {
          concurrent.delete(request.name);
        }
      },
    }).watchPrimary(informer);
    const stop = new AbortController();
    const running = controller.run(stop.signal, 5_000);
    try {
      await eventually(
        'retries to settle',
        () => attempts.get('rejects') === 3 && attempts.get('throws') === 2 && attempts.get('requeue') === 3,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(attempts.get('terminal')).toBe(1);
      expect(attempts.get('ok')).toBe(1);
      expect(attempts.get('rejects')).toBe(3);
      expect(overlap).toBe(false);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/kok_reconcile_total\{controller="behaviour",result="terminal_error"\} 1/);
      expect(text).toMatch(/kok_reconcile_total\{controller="behaviour",result="requeue_after"\} 2/);
      expect(text).toMatch(/kok_reconcile_panics_total\{controller="behaviour"\} 1/);
    } finally {
      stop.abort();
      await running;
      await informer.stop();
    }
  });

  it('lets in-flight reconciles finish on shutdown and aborts them at the deadline', async () => {
    const ns = await freshNamespace(client, 'ctrl-stop');
    await client.create(builtinTypes.configMap, configMap(ns, 'slow'));
    const informer = new Informer({ client, type: builtinTypes.configMap, namespace: ns });
    informer.start();
    await informer.waitForSync();
    let started = false;
    let abortedBySignal = false;
    const controller = new Controller({
      name: 'slow',
      reconcile: async (_, ctx) => {
        started = true;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        abortedBySignal = true;
      },
    }).watchPrimary(informer);
    const stop = new AbortController();
    const running = controller.run(stop.signal, 300);
    await eventually('the reconcile to start', () => started);
    const stoppedAt = Date.now();
    stop.abort();
    await running;
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect(abortedBySignal).toBe(true);
    await informer.stop();
  });
});
