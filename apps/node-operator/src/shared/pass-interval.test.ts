import type { ReconcileContext } from '@kok/reconcile';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { atMostEvery } from './pass-interval.ts';

const ctx: ReconcileContext = {
  log: pino({ level: 'silent' }),
  reconcileID: 'test',
  signal: new AbortController().signal,
};

describe('atMostEvery', () => {
  it('runs the first pass of a key at once and puts off the next until the interval has passed', async () => {
    let clock = 0;
    const passes: string[] = [];
    const reconcile = atMostEvery(
      1_000,
      (request) => {
        passes.push(request.name);
        clock += 30; // the pass itself takes time; the interval counts from its end
      },
      () => clock,
    );
    expect(await reconcile({ name: 'a' }, ctx)).toBeUndefined();
    clock += 400;
    expect(await reconcile({ name: 'a' }, ctx)).toEqual({ requeueAfter: 600 });
    expect(await reconcile({ name: 'b' }, ctx)).toBeUndefined();
    clock += 600;
    await reconcile({ name: 'a' }, ctx);
    expect(passes).toEqual(['a', 'b', 'a']);
  });

  it('passes the result of the pass through', async () => {
    const reconcile = atMostEvery(
      1_000,
      () => ({ requeueAfter: 5 }),
      () => 0,
    );
    expect(await reconcile({ name: 'a' }, ctx)).toEqual({ requeueAfter: 5 });
  });

  it('counts a failed pass like any other', async () => {
    let clock = 0;
    const reconcile = atMostEvery(
      1_000,
      () => {
        throw new Error('conflict');
      },
      () => clock,
    );
    await expect(reconcile({ name: 'a' }, ctx)).rejects.toThrow('conflict');
    clock += 10;
    expect(await reconcile({ name: 'a' }, ctx)).toEqual({ requeueAfter: 990 });
  });

  it('with an interval of 0 is the reconciler itself', () => {
    const inner = () => undefined;
    expect(atMostEvery(0, inner)).toBe(inner);
  });

  it('never starts two passes of one key less than the interval apart, whatever the timing of requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 700 })), {
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 1_000 }),
        async (requests, interval) => {
          let clock = 0;
          const started = new Map<string, number[]>();
          const reconcile = atMostEvery(
            interval,
            (request) => {
              started.set(request.name, [...(started.get(request.name) ?? []), clock]);
            },
            () => clock,
          );
          for (const [name, gap] of requests) {
            clock += gap;
            await reconcile({ name }, ctx);
          }
          for (const times of started.values())
            for (let i = 1; i < times.length; i++)
              expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(interval);
        },
      ),
    );
  });
});
