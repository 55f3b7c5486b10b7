import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';

describe('eventually', () => {
  it('returns the first truthy answer, treating a throw as not yet', async () => {
    let calls = 0;
    const value = await eventually(
      'the third call',
      () => {
        calls++;
        if (calls === 1) throw new Error('not served yet');
        return calls === 3 ? { calls } : undefined;
      },
      5_000,
      10,
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('fails naming what it waited for, the last error and the context', async () => {
    await expect(
      eventually(
        'the pool to pause',
        () => {
          throw new Error('connection refused');
        },
        50,
        { intervalMs: 10, context: () => 'machines (told→running): a→b: 3' },
      ),
    ).rejects.toThrow(
      /timed out after 50 ms waiting for the pool to pause: Error: connection refused\nmachines \(told→running\): a→b: 3/,
    );
  });
});
