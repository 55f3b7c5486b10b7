import { describe, expect, it } from 'vitest';
import {
  containerTermination,
  terminationMessageFromLog,
  wantsLogAsTerminationMessage,
} from './termination-message.ts';

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

describe('terminationMessageFromLog', () => {
  it.each([
    ['an empty log', '', ''],
    ['a short log, whole', 'Error: open /nonexistent.db: no such file or directory\n', undefined],
    ['a last line without newline', 'a\nb', undefined],
    ['exactly 80 lines, whole', lines(1, 80), undefined],
    ['the last 80 of 100 lines', lines(1, 100), lines(21, 100)],
    ['the last 80 lines of one without a final newline', `${lines(1, 100)}end`, `${lines(22, 100)}end`],
  ])('%s', (_case, log, expected) => {
    expect(terminationMessageFromLog(Buffer.from(log))).toBe(expected ?? log);
  });

  it('keeps at most the last 2048 bytes of those lines', () => {
    const long = `${'x'.repeat(3000)}\nError: the end\n`;
    const message = terminationMessageFromLog(Buffer.from(long));
    expect(Buffer.byteLength(message)).toBe(2048);
    expect(message.endsWith('Error: the end\n')).toBe(true);
  });

  it('does not start in the middle of a character', () => {
    // "é" is two bytes: 2048 bytes back from the end falls inside one.
    const log = Buffer.from(`${'é'.repeat(1100)}\n`);
    const message = terminationMessageFromLog(log);
    expect(message).toBe(`${'é'.repeat(1023)}\n`);
    expect(message).not.toContain('\uFFFD');
  });
});

describe('wantsLogAsTerminationMessage', () => {
  it.each([
    ['FallbackToLogsOnError', 1, true],
    ['FallbackToLogsOnError', 0, false],
    ['File', 1, false],
    [undefined, 1, false],
  ])('policy %s, exit %i → %s', (terminationMessagePolicy, exitCode, wanted) => {
    expect(
      wantsLogAsTerminationMessage(
        { name: 'restore', ...(terminationMessagePolicy ? { terminationMessagePolicy } : {}) },
        exitCode,
      ),
    ).toBe(wanted);
  });
});

describe('containerTermination', () => {
  const startedAt = new Date('2026-01-01T00:00:00Z');
  const finishedAt = new Date('2026-01-01T00:00:01Z');
  const restore = { name: 'restore', terminationMessagePolicy: 'FallbackToLogsOnError' };
  const log = () => Buffer.from('Error: open /snapshot/x.db: no such file or directory\n');

  it('takes the message from the log of a container that failed and asks for it', () => {
    expect(containerTermination(restore, { exitCode: 1, startedAt, finishedAt }, log)).toEqual({
      exitCode: 1,
      startedAt,
      finishedAt,
      message: 'Error: open /snapshot/x.db: no such file or directory\n',
    });
  });

  it.each([
    ['a container that succeeded', restore, 0],
    ['a container without the policy', { name: 'restore' }, 1],
  ])('reads no log for %s', (_case, container, exitCode) => {
    const unread = () => {
      throw new Error('the log was read');
    };
    expect(containerTermination(container, { exitCode, startedAt, finishedAt }, unread)).toEqual({
      exitCode,
      startedAt,
      finishedAt,
    });
  });

  it('gives no message for an empty log', () => {
    expect(
      containerTermination(restore, { exitCode: 2, startedAt, finishedAt }, () => Buffer.alloc(0)),
    ).not.toHaveProperty('message');
  });
});
