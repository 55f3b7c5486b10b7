import { describe, expect, it } from 'vitest';
import { retryWhenPortTaken } from './port-taken-retry.ts';

const taken = new Error(
  'kwok exited with 1 while starting\nlisten tcp 127.0.0.1:34897: bind: address already in use',
);

describe('retryWhenPortTaken', () => {
  it('starts again on a fresh port when the picked one was taken', async () => {
    const calls: boolean[] = [];
    const retried: unknown[] = [];
    const result = await retryWhenPortTaken(
      async (fresh) => {
        calls.push(fresh);
        if (calls.length === 1) throw taken;
        return 'running';
      },
      { onRetry: (error) => retried.push(error) },
    );
    expect(result).toBe('running');
    expect(calls).toEqual([false, true]);
    expect(retried).toEqual([taken]);
  });

  it('throws any other failure at once', async () => {
    const other = new Error('etcd exited with 1 while starting');
    let calls = 0;
    await expect(
      retryWhenPortTaken(async () => {
        calls++;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
  });

  it('gives up after its attempts', async () => {
    let calls = 0;
    await expect(
      retryWhenPortTaken(
        async () => {
          calls++;
          throw taken;
        },
        { attempts: 2 },
      ),
    ).rejects.toBe(taken);
    expect(calls).toBe(2);
  });
});
