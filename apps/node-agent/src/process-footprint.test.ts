import { describe, expect, it } from 'vitest';
import { MMAP_THRESHOLD_VARIABLE, smallFootprintLaunch, withoutAgentTuning } from './process-footprint.ts';

describe('smallFootprintLaunch', () => {
  it.each([
    {
      case: 'a plain start gets both settings',
      execArgv: [],
      env: { PATH: '/bin' },
      expected: {
        execArgv: ['--max-semi-space-size=1'],
        env: { PATH: '/bin', [MMAP_THRESHOLD_VARIABLE]: '32768' },
      },
    },
    {
      case: "the starter's own semi-space size is kept",
      execArgv: ['--max-semi-space-size=4', '--enable-source-maps'],
      env: {},
      expected: {
        execArgv: ['--max-semi-space-size=4', '--enable-source-maps'],
        env: { [MMAP_THRESHOLD_VARIABLE]: '32768' },
      },
    },
    {
      case: 'other flags stay, after ours',
      execArgv: ['--enable-source-maps'],
      env: {},
      expected: {
        execArgv: ['--max-semi-space-size=1', '--enable-source-maps'],
        env: { [MMAP_THRESHOLD_VARIABLE]: '32768' },
      },
    },
  ])('$case', ({ execArgv, env, expected }) => {
    expect(smallFootprintLaunch({ execArgv, env })).toEqual(expected);
  });

  it('does nothing once the allocator is tuned: after the re-exec, or when the starter chose a value', () => {
    expect(
      smallFootprintLaunch({ execArgv: [], env: { [MMAP_THRESHOLD_VARIABLE]: '32768' } }),
    ).toBeUndefined();
    expect(smallFootprintLaunch({ execArgv: [], env: { [MMAP_THRESHOLD_VARIABLE]: '0' } })).toBeUndefined();
  });
});

describe('withoutAgentTuning', () => {
  it("leaves the agent's allocator setting out of a service's environment", () => {
    expect(withoutAgentTuning({ PATH: '/bin', [MMAP_THRESHOLD_VARIABLE]: '32768' })).toEqual({
      PATH: '/bin',
    });
  });
});
