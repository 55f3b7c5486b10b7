import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { earliestStarted, isAlive, oldestOf, startTimeOf } from './process-identity.ts';

describe('earliestStarted', () => {
  it.each([
    ['none', [], undefined],
    ['one', [{ pid: 7, startTime: '50' }], 7],
    [
      'a higher pid that started first (pids wrapped around)',
      [
        { pid: 5, startTime: '900' },
        { pid: 30_000, startTime: '100' },
      ],
      30_000,
    ],
    [
      'a process gone meanwhile comes last',
      [
        { pid: 3, startTime: '' },
        { pid: 9, startTime: '400' },
      ],
      9,
    ],
    [
      'start times compared as numbers, not text',
      [
        { pid: 1, startTime: '1000' },
        { pid: 2, startTime: '999' },
      ],
      2,
    ],
  ] as const)('%s', (_, processes, expected) => {
    expect(earliestStarted(processes)).toBe(expected);
  });
});

describe('oldestOf', () => {
  async function sleeper() {
    const child = spawn('sleep', ['30']);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child;
  }

  it('names the process that started first, whatever the order of the pids, and skips a dead one', async () => {
    const first = await sleeper();
    // Start times count clock ticks (10 ms): the second one starts several later.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = await sleeper();
    try {
      const [a, b] = [first.pid as number, second.pid as number];
      expect(Number(startTimeOf(a))).toBeLessThan(Number(startTimeOf(b)));
      expect(oldestOf([b, a])).toBe(a);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      expect(isAlive(a)).toBe(false);
      expect(oldestOf([a, b])).toBe(b);
    } finally {
      first.kill('SIGKILL');
      second.kill('SIGKILL');
    }
  });
});
