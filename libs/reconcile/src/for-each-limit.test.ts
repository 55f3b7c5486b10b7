import { describe, expect, it } from 'vitest';
import { forEachLimit } from './for-each-limit.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('forEachLimit', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await tick();
      done.push(item);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('rejects with the first failure only after every other item has run', async () => {
    const done: number[] = [];
    const run = forEachLimit([1, 2, 3, 4], 2, async (item) => {
      await tick();
      if (item === 1) throw new Error('one failed');
      done.push(item);
    });
    await expect(run).rejects.toThrow('one failed');
    expect(done.sort()).toEqual([2, 3, 4]);
  });

  it('does nothing for no items', async () => {
    await expect(forEachLimit([], 4, () => Promise.reject(new Error('called')))).resolves.toBeUndefined();
  });
});
