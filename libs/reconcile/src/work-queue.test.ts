import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { itemExponentialFailureRateLimiter } from './rate-limiters.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';
import type { WorkQueueMetrics } from './work-queue.ts';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('collapses duplicate adds of a pending item', () => {
    const q = new WorkQueue<string>();
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(q.tryGet()).toBe('a');
    expect(q.tryGet()).toBe('b');
    expect(q.tryGet()).toBeUndefined();
  });

  it('hands items out in first-add order', () => {
    const q = new WorkQueue<string>();
    ['c', 'a', 'b', 'a', 'c'].forEach((k) => q.add(k));
    expect([q.tryGet(), q.tryGet(), q.tryGet()]).toEqual(['c', 'a', 'b']);
  });

  it('does not hand out an item being processed; a re-add requeues it at done()', () => {
    const q = new WorkQueue<string>();
    q.add('a');
    expect(q.tryGet()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    expect(q.tryGet()).toBeUndefined();
    q.done('a');
    expect(q.len()).toBe(1);
    expect(q.tryGet()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting get() on add', async () => {
    const q = new WorkQueue<string>();
    const pending = q.get();
    q.add('x');
    await expect(pending).resolves.toEqual({ item: 'x', shutdown: false });
    expect(q.processingCount()).toBe(1);
  });

  it('after shutDown ignores adds, still hands out queued items, then reports shutdown', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.shutDown();
    q.add('b');
    await expect(q.get()).resolves.toEqual({ item: 'a', shutdown: false });
    await expect(q.get()).resolves.toEqual({ item: undefined, shutdown: true });
  });

  it('resolves waiting get() calls with shutdown', async () => {
    const q = new WorkQueue<string>();
    const waiting = [q.get(), q.get()];
    q.shutDown();
    for (const w of waiting) await expect(w).resolves.toMatchObject({ shutdown: true });
  });

  it('shutDownWithDrain waits for items being processed', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.tryGet();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('a');
    await drain;
    expect(drained).toBe(true);
  });

  it('reports depth, adds, latency, work duration, retries and longest running', () => {
    const clock = new FakeClock();
    const seen = {
      adds: 0,
      depth: [] as number[],
      latency: [] as number[],
      work: [] as number[],
      retries: 0,
    };
    const metrics: WorkQueueMetrics = {
      add: () => seen.adds++,
      depth: (n) => seen.depth.push(n),
      queueLatency: (s) => seen.latency.push(s),
      workDuration: (s) => seen.work.push(s),
      retry: () => seen.retries++,
    };
    const q = new RateLimitingQueue<string>({ clock, metrics });
    q.add('a');
    q.add('a');
    clock.advance(2000);
    q.tryGet();
    clock.advance(3000);
    expect(q.longestRunningProcessorSeconds()).toBe(3);
    expect(q.unfinishedWorkSeconds()).toBe(3);
    q.done('a');
    q.addRateLimited('a');
    expect(seen).toMatchObject({ adds: 1, latency: [2], work: [3], retries: 1 });
    expect(seen.depth).toEqual([1, 0]);
  });
});

describe('DelayingQueue', () => {
  it('adds an item once its delay has passed', () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    q.addAfter('a', 100);
    expect(q.len()).toBe(0);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.tryGet()).toBe('a');
  });

  it('keeps the earliest ready time of an item added after different delays', () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 300);
    expect(q.waitingCount()).toBe(1);
    clock.advance(100);
    expect(q.tryGet()).toBe('a');
    q.done('a');
    clock.advance(1000);
    expect(q.len()).toBe(0);
  });

  it('releases items in ready-time order', () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    q.addAfter('late', 30);
    q.addAfter('early', 10);
    q.addAfter('middle', 20);
    q.add('now');
    clock.advance(30);
    expect([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()]).toEqual(['now', 'early', 'middle', 'late']);
  });

  it('forgets waiting items and cancels its timer on shutDown', () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    q.addAfter('a', 10);
    q.shutDown();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(20);
    expect(q.len()).toBe(0);
  });
});

describe('RateLimitingQueue', () => {
  it('backs off each retry of an item exponentially and forget() resets it', () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({
      clock,
      rateLimiter: itemExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 1000 }),
    });
    q.addRateLimited('a');
    q.addRateLimited('b');
    expect(q.numRequeues('a')).toBe(1);
    clock.advance(10);
    expect(q.len()).toBe(2);
    q.tryGet();
    q.done('a');
    q.addRateLimited('a'); // second failure: 20 ms
    clock.advance(19);
    expect(q.waitingCount()).toBe(1);
    clock.advance(1);
    expect(q.waitingCount()).toBe(0);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });
});

type Op =
  | { kind: 'add'; key: string }
  | { kind: 'addAfter'; key: string; delay: number }
  | { kind: 'addRateLimited'; key: string }
  | { kind: 'forget'; key: string }
  | { kind: 'get' }
  | { kind: 'done'; pick: number }
  | { kind: 'advance'; ms: number };

const keys = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: keys }),
  fc.record({ kind: fc.constant('addAfter' as const), key: keys, delay: fc.integer({ min: -5, max: 200 }) }),
  fc.record({ kind: fc.constant('addRateLimited' as const), key: keys }),
  fc.record({ kind: fc.constant('forget' as const), key: keys }),
  fc.record({ kind: fc.constant('get' as const) }),
  fc.record({ kind: fc.constant('done' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
);

describe('work queue invariants (property)', () => {
  it('never processes a key concurrently, processes every key after its last add, and collapses duplicates', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const clock = new FakeClock();
        const q = new RateLimitingQueue<string>({
          clock,
          rateLimiter: itemExponentialFailureRateLimiter({ baseDelayMs: 1, maxDelayMs: 50 }),
        });
        const inFlight = new Set<string>();
        const lastAdd = new Map<string, number>();
        const lastGetStart = new Map<string, number>();
        let step = 0;
        let adds = 0;
        let gets = 0;
        const take = (): void => {
          const k = q.tryGet();
          if (k === undefined) return;
          expect(inFlight.has(k)).toBe(false);
          inFlight.add(k);
          lastGetStart.set(k, step);
          gets++;
        };
        for (const o of ops) {
          step++;
          switch (o.kind) {
            case 'add':
              q.add(o.key);
              break;
            case 'addAfter':
              q.addAfter(o.key, o.delay);
              break;
            case 'addRateLimited':
              q.addRateLimited(o.key);
              break;
            case 'forget':
              q.forget(o.key);
              continue;
            case 'get':
              take();
              continue;
            case 'done': {
              const list = [...inFlight];
              const k = list[o.pick % Math.max(1, list.length)];
              if (k !== undefined) {
                inFlight.delete(k);
                q.done(k);
              }
              continue;
            }
            case 'advance':
              clock.advance(o.ms);
              continue;
          }
          adds++;
          lastAdd.set(o.key, step);
          expect(q.len()).toBeLessThanOrEqual(5);
        }
        // Drain: finish everything, let all delays pass, process until empty.
        step++;
        for (const k of inFlight) q.done(k);
        inFlight.clear();
        clock.advance(10_000);
        while (q.len() > 0) {
          take();
          for (const k of inFlight) q.done(k);
          inFlight.clear();
        }
        for (const [k, addedAt] of lastAdd) {
          expect(lastGetStart.get(k) ?? -1).toBeGreaterThan(addedAt);
        }
        expect(gets).toBeLessThanOrEqual(adds);
      }),
      { numRuns: 300 },
    );
  });
});
