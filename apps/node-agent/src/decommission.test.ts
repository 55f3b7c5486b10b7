import type { Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { decommissionPhase } from './decommission.ts';

const at = '2026-12-02T10:00:00Z';
const earlier = '2026-12-02T09:40:00Z';
const machine = (deleted: boolean, conditions: Record<string, 'True' | 'False'> = {}, since = at): Machine =>
  ({
    metadata: { name: 'm', ...(deleted ? { deletionTimestamp: at } : {}) },
    spec: {},
    status: {
      conditions: Object.entries(conditions).map(([type, status]) => ({
        type,
        status,
        reason: 'R',
        message: '',
        lastTransitionTime: since,
      })),
    },
  }) as Machine;

describe('decommission phase', () => {
  it.each([
    {
      name: 'a Machine that is not deleted converges as usual',
      m: machine(false, { Drained: 'True' }),
      phase: 'member',
    },
    { name: 'deleted but not drained: nothing changes on the host', m: machine(true), phase: 'draining' },
    { name: 'deleted, drain still blocked', m: machine(true, { Drained: 'False' }), phase: 'draining' },
    {
      name: 'deleted, Drained left from an earlier drain: the pods running now were not drained',
      m: machine(true, { Drained: 'True' }, earlier),
      phase: 'draining',
    },
    {
      name: 'deleted and drained: stop and remove everything',
      m: machine(true, { Drained: 'True' }),
      phase: 'decommission',
    },
    {
      name: 'already reported',
      m: machine(true, { Drained: 'True', Decommissioned: 'True' }),
      phase: 'decommissioned',
    },
  ])('$name', ({ m, phase }) => {
    expect(decommissionPhase(m)).toBe(phase);
  });
});
