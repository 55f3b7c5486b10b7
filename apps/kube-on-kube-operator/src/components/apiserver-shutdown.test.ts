import { goDurationMs } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { apiServerTerminationGraceSeconds } from './apiserver-shutdown.ts';

describe('apiServerTerminationGraceSeconds', () => {
  it.each<[string, string[], number]>([
    // What the apiserver itself defaults to: no delay, a 60 s request timeout, watches not waited for.
    ['a command line without the flags', [], 65],
    ['the shutdown delay and the drain', ['--shutdown-delay-duration=5s', '--v=2'], 70],
    [
      'the last of a repeated flag, as the apiserver reads it',
      ['--shutdown-delay-duration=5s', '--shutdown-delay-duration=1m'],
      125,
    ],
    ['a drain of milliseconds', ['--shutdown-delay-duration=0s', '--request-timeout=500ms'], 6],
    [
      'watches that drain longer',
      ['--shutdown-delay-duration=5s', '--shutdown-watch-termination-grace-period=2m'],
      130,
    ],
  ])('%s', (_, args, seconds) => expect(apiServerTerminationGraceSeconds(args)).toBe(seconds));

  it('is always longer than the delay plus the drain', () => {
    for (const delay of ['0s', '1s', '5s', '59.9s', '10m'])
      for (const timeout of ['0s', '30s', '1m', '5m']) {
        const args = [`--shutdown-delay-duration=${delay}`, `--request-timeout=${timeout}`];
        expect(apiServerTerminationGraceSeconds(args) * 1000).toBeGreaterThan(
          goDurationMs(delay) + goDurationMs(timeout),
        );
      }
  });
});
