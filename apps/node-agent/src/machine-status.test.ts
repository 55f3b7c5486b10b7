import { describe, expect, it } from 'vitest';
import type { ComponentObservation, StatusInput } from './machine-status.ts';
import { agentStatus, componentState, shouldWriteStatus } from './machine-status.ts';

const seen = (over: Partial<ComponentObservation>): ComponentObservation => ({
  current: 'v1',
  running: true,
  health: 'Healthy',
  hasHealthCheck: true,
  healthMessage: '',
  refusal: undefined,
  ...over,
});

describe('component state', () => {
  it.each([
    { obs: undefined, converging: false, state: 'Pending' },
    { obs: undefined, converging: true, state: 'Installing' },
    { obs: seen({ current: 'v0' }), converging: true, state: 'Installing' },
    { obs: seen({ running: false }), converging: false, state: 'Stopped' },
    { obs: seen({ health: 'Failed' }), converging: false, state: 'Failed' },
    { obs: seen({ health: 'Unknown' }), converging: false, state: 'Installing' },
    { obs: seen({}), converging: false, state: 'Running' },
    { obs: seen({ current: 'v0', refusal: 'sha mismatch' }), converging: false, state: 'Running' },
    { obs: seen({ current: undefined, refusal: 'sha mismatch' }), converging: false, state: 'Failed' },
  ])('$state for $obs (converging $converging)', ({ obs, converging, state }) => {
    expect(componentState('kubelet', 'v1', obs, converging).state).toBe(state);
  });
});

const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  desired: { revision: 'r2', components: [], files: [], restartGeneration: undefined, problems: [] },
  components: new Map(),
  files: new Map(),
  error: undefined,
  drift: undefined,
  converging: false,
  operation: undefined,
  previous: { revision: { current: 'r1' } },
  agentVersion: '0.0.0',
  generation: 3,
  now: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

describe('agent status', () => {
  it('moves revision.current only when everything is in place and healthy', () => {
    expect(agentStatus(input()).revision).toEqual({ current: 'r2', desired: 'r2' });
    const failing = input({ error: { reason: 'InstallFailed', message: 'boom' } });
    expect(agentStatus(failing).revision).toEqual({ current: 'r1', desired: 'r2' });
    const ready = agentStatus(failing).conditions?.find((c) => c.type === 'AgentReady');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: 'boom',
      observedGeneration: 3,
    });
  });

  it('writes on change or when the heartbeat is due, never just because time passed', () => {
    const first = agentStatus(input());
    // The previous status (as read back) carries the conditions, so their transition times stay put.
    const later = agentStatus(input({ now: new Date('2026-01-01T00:01:00Z'), previous: first }));
    const written = { status: first, at: 0 };
    expect(shouldWriteStatus(later, written, 60_000, 300_000)).toBe(false);
    expect(shouldWriteStatus(later, written, 300_000, 300_000)).toBe(true);
    const changed = agentStatus(input({ converging: true, previous: first }));
    expect(shouldWriteStatus(changed, written, 1, 300_000)).toBe(true);
    expect(shouldWriteStatus(first, undefined, 0, 300_000)).toBe(true);
  });
});
