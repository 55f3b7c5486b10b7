import type { Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { convergedStatus, pendingRevision } from './rollout-agent-simulator.ts';

const ready = (status: 'True' | 'False') => [
  {
    type: 'AgentReady',
    status,
    reason: 'Converged',
    message: '',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  },
];

describe('pendingRevision', () => {
  it.each<[string, Machine, string | undefined]>([
    ['no spec revision', { spec: { pool: 'p' } } as Machine, undefined],
    ['no status yet', { spec: { pool: 'p', revision: 'r1' } } as Machine, 'r1'],
    [
      'reports the revision, ready',
      {
        spec: { pool: 'p', revision: 'r1' },
        status: { revision: { current: 'r1', desired: 'r1' }, conditions: ready('True') },
      } as Machine,
      undefined,
    ],
    [
      'told a new revision',
      {
        spec: { pool: 'p', revision: 'r2' },
        status: { revision: { current: 'r1', desired: 'r1' }, conditions: ready('True') },
      } as Machine,
      'r2',
    ],
    [
      'at the revision but not ready',
      {
        spec: { pool: 'p', revision: 'r1' },
        status: { revision: { current: 'r1', desired: 'r1' }, conditions: ready('False') },
      } as Machine,
      'r1',
    ],
  ])('%s', (_, machine, expected) => expect(pendingRevision(machine)).toBe(expected));
});

describe('convergedStatus', () => {
  it('reports the revision with the spec components Running, and no longer pending', () => {
    const machine = {
      spec: { pool: 'p', revision: 'r2', components: [{ name: 'kubelet', version: 'v1.36.4' }] },
    } as Machine;
    const status = convergedStatus(machine, 'r2', new Date('2026-01-01T00:00:00Z'));
    expect(status.revision).toEqual({ current: 'r2', desired: 'r2' });
    expect(status.components).toEqual([{ name: 'kubelet', version: 'v1.36.4', state: 'Running' }]);
    expect(status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['AgentReady', 'True'],
      ['UpToDate', 'True'],
    ]);
    expect(pendingRevision({ ...machine, status })).toBeUndefined();
  });
});
