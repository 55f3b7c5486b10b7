import type { LastOperation } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { OperationEvent } from './last-operation.ts';
import { nextOperation, percentDone } from './last-operation.ts';

const T0 = '2026-01-01T00:00:00Z';
const NOW = new Date('2026-01-01T00:05:00Z');
const AT = '2026-01-01T00:05:00Z';

const processing = (type: string): LastOperation => ({
  type,
  state: 'Processing',
  progress: 40,
  message: 'under way',
  startedAt: T0,
});

describe('nextOperation', () => {
  const cases: {
    name: string;
    previous: LastOperation | undefined;
    event: OperationEvent;
    expected: LastOperation;
  }[] = [
    {
      name: 'a started operation begins now even when the same type is under way',
      previous: processing('Reinstall'),
      event: { kind: 'started', type: 'Reinstall', progress: 0, message: 'reinstalling' },
      expected: {
        type: 'Reinstall',
        state: 'Processing',
        progress: 0,
        message: 'reinstalling',
        startedAt: AT,
      },
    },
    {
      name: 'progress keeps the startedAt of the operation under way',
      previous: processing('Update'),
      event: { kind: 'progressed', type: 'Update', progress: 50, message: 'done: start a' },
      expected: {
        type: 'Update',
        state: 'Processing',
        progress: 50,
        message: 'done: start a',
        startedAt: T0,
      },
    },
    {
      name: 'progress of another type starts a new operation',
      previous: processing('Update'),
      event: { kind: 'progressed', type: 'Restart', progress: 0, message: 'restarting a' },
      expected: { type: 'Restart', state: 'Processing', progress: 0, message: 'restarting a', startedAt: AT },
    },
    {
      name: 'progress after a finished operation of the same type starts a new one',
      previous: { ...processing('Reboot'), state: 'Succeeded', finishedAt: T0 },
      event: { kind: 'progressed', type: 'Reboot', progress: 50, message: 'host is back' },
      expected: { type: 'Reboot', state: 'Processing', progress: 50, message: 'host is back', startedAt: AT },
    },
    {
      name: 'a failure finishes the operation under way, at its progress',
      previous: processing('Update'),
      event: { kind: 'failed', type: 'Update', progress: 40, message: 'install a 1 failed' },
      expected: {
        type: 'Update',
        state: 'Failed',
        progress: 40,
        message: 'install a 1 failed',
        startedAt: T0,
        finishedAt: AT,
      },
    },
    {
      name: 'success finishes at 100%',
      previous: processing('Restart'),
      event: { kind: 'succeeded', type: 'Restart', message: 'every service restarted' },
      expected: {
        type: 'Restart',
        state: 'Succeeded',
        progress: 100,
        message: 'every service restarted',
        startedAt: T0,
        finishedAt: AT,
      },
    },
    {
      name: 'success with nothing under way started and finished now',
      previous: undefined,
      event: { kind: 'succeeded', type: 'Restart', message: 'every service restarted' },
      expected: {
        type: 'Restart',
        state: 'Succeeded',
        progress: 100,
        message: 'every service restarted',
        startedAt: AT,
        finishedAt: AT,
      },
    },
  ];
  it.each(cases)('$name', ({ previous, event, expected }) => {
    expect(nextOperation(previous, event, NOW)).toEqual(expected);
  });
});

describe('percentDone', () => {
  it.each([
    [0, 4, 0],
    [1, 3, 33],
    [4, 4, 100],
    [0, 0, 0],
    [5, 4, 100],
  ])('%i of %i steps is %i%%', (done, steps, expected) => {
    expect(percentDone(done, steps)).toBe(expected);
  });
});
