import { describe, expect, it } from 'vitest';
import type { WaveSpec } from './rollout-spec.ts';
import { doneAtTarget, machine, NOW } from './test-support/machines.ts';
import type { MachineState } from './machine-state.ts';
import { wavePosition } from './wave-position.ts';
import { resolveWaves } from './waves.ts';

const position = (machines: MachineState[], specs: WaveSpec[], resumedAfterWave?: number) =>
  wavePosition(resolveWaves(machines, specs), 'r2', NOW, resumedAfterWave);

describe('wavePosition', () => {
  const specs: WaveSpec[] = [{ count: 1, pauseAfter: true }, { count: 2 }, { count: 3 }];

  it.each([
    { case: 'nothing started', fleet: ['idle', 'idle', 'idle'], openWave: 0, hold: undefined },
    { case: 'canary updating', fleet: ['updating', 'idle', 'idle'], openWave: 0, hold: undefined },
    { case: 'canary done', fleet: ['done', 'idle', 'idle'], openWave: 0, hold: { reason: 'AwaitingResume' } },
    {
      case: 'canary failed',
      fleet: ['failed', 'idle', 'idle'],
      openWave: 0,
      hold: { reason: 'AwaitingResume' },
    },
    {
      case: 'canary done, resumed',
      fleet: ['done', 'idle', 'idle'],
      resumed: 0,
      openWave: 1,
      hold: undefined,
    },
    { case: 'second wave done', fleet: ['done', 'done', 'idle'], resumed: 0, openWave: 2, hold: undefined },
    {
      case: 'an earlier machine went down after a later wave started',
      fleet: ['down', 'updating', 'idle'],
      openWave: 1,
      hold: undefined,
    },
    {
      case: 'an earlier machine went down before the next wave started',
      fleet: ['down', 'idle', 'idle'],
      resumed: 0,
      openWave: 0,
      hold: undefined,
    },
    {
      case: 'every machine already on the target: no hold before waves with nothing to do',
      fleet: ['done', 'done', 'done'],
      openWave: 2,
      hold: undefined,
    },
  ])('$case → wave $openWave', ({ fleet, resumed, openWave, hold }) => {
    const machines = fleet.map((state, index) => {
      const name = `worker-${index + 1}`;
      switch (state) {
        case 'done':
          return doneAtTarget(name);
        case 'down':
          return doneAtTarget(name, { ready: false });
        case 'failed':
          return machine(name, { desiredRevision: 'r2', currentRevision: 'r2', failedRevision: 'r2' });
        case 'updating':
          return machine(name, { desiredRevision: 'r2' });
        default:
          return machine(name);
      }
    });
    expect(position(machines, specs, resumed)).toEqual(hold ? { openWave, hold } : { openWave });
  });

  it('steps over empty waves without holding at them', () => {
    const machines = [doneAtTarget('worker-1'), machine('worker-2')];
    const result = position(machines, [
      { count: 1 },
      { count: 1, pauseAfter: true, bakeSeconds: 999 },
      { count: 2 },
    ]);
    expect(result).toEqual({ openWave: 2 });
  });
});
