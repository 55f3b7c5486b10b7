import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PoolLocks } from './pool-locks.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PoolLocks', () => {
  it('never lets two holders of the same pool overlap, whatever pools they ask for', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { minLength: 1 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (requests) => {
          const locks = new PoolLocks();
          const holding = new Set<string>();
          let overlaps = 0;
          await Promise.all(
            requests.map((pools) =>
              locks.withPools(pools, async () => {
                for (const p of pools) if (holding.has(p)) overlaps++;
                for (const p of pools) holding.add(p);
                await tick();
                for (const p of pools) holding.delete(p);
              }),
            ),
          );
          expect(overlaps).toBe(0);
        },
      ),
    );
  });

  it('runs holders of different pools at the same time', async () => {
    const locks = new PoolLocks();
    const order: string[] = [];
    let releaseA!: () => void;
    const a = locks.withPools(['a'], async () => {
      order.push('a in');
      await new Promise<void>((r) => (releaseA = r));
      order.push('a out');
    });
    await tick();
    await locks.withPools(['b'], async () => void order.push('b'));
    releaseA();
    await a;
    expect(order).toEqual(['a in', 'b', 'a out']);
  });

  it('releases the lock when the work throws', async () => {
    const locks = new PoolLocks();
    await expect(locks.withPools(['a'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.withPools(['a'], () => Promise.resolve(1))).resolves.toBe(1);
  });
});
