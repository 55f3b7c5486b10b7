import { describe, expect, it } from 'vitest';
import { changedFields, tallyWrites } from './changed-fields.ts';

const condition = (type: string, status: string, time = 't0') => ({
  type,
  status,
  reason: 'R',
  lastTransitionTime: time,
});

describe('changedFields', () => {
  it.each<[string, unknown, unknown, string[]]>([
    [
      'a heartbeat: only the heartbeat time (the resourceVersion is left out)',
      { metadata: { resourceVersion: '1' }, status: { agent: { version: 'v1', lastHeartbeatTime: 't0' } } },
      { metadata: { resourceVersion: '2' }, status: { agent: { version: 'v1', lastHeartbeatTime: 't1' } } },
      ['status.agent.lastHeartbeatTime'],
    ],
    [
      'conditions keep their identity by type, whatever their order',
      { status: { conditions: [condition('AgentReady', 'True'), condition('UpToDate', 'True')] } },
      { status: { conditions: [condition('UpToDate', 'True'), condition('AgentReady', 'False', 't1')] } },
      ['status.conditions[AgentReady].lastTransitionTime', 'status.conditions[AgentReady].status'],
    ],
    [
      'components by name; a field added and one removed',
      { status: { components: [{ name: 'kubelet', version: 'v1' }], observedGeneration: 1 } },
      { status: { components: [{ name: 'kubelet', version: 'v2' }], revision: { current: 'r2' } } },
      ['status.components[kubelet].version', 'status.observedGeneration', 'status.revision'],
    ],
    [
      'a list of plain values that grew is one change',
      { spec: { args: ['a'] } },
      { spec: { args: ['a', 'b'] } },
      ['spec.args'],
    ],
    [
      'a condition that appears',
      { status: { conditions: [condition('AgentReady', 'True')] } },
      { status: { conditions: [condition('AgentReady', 'True'), condition('Drained', 'True')] } },
      ['status.conditions[Drained]'],
    ],
    ['nothing', { a: { b: [1, 2] } }, { a: { b: [1, 2] } }, []],
  ])('%s', (_, before, after, expected) => expect(changedFields(before, after)).toEqual(expected));
});

describe('tallyWrites', () => {
  it('counts each field and each set of fields, most frequent first', () => {
    const heartbeat = ['status.agent.lastHeartbeatTime'];
    const converged = ['status.agent.lastHeartbeatTime', 'status.revision.current'];
    expect(tallyWrites([heartbeat, converged, heartbeat, []])).toEqual({
      byField: { 'status.agent.lastHeartbeatTime': 3, 'status.revision.current': 1 },
      byChange: {
        'status.agent.lastHeartbeatTime': 2,
        '(nothing but the resourceVersion)': 1,
        'status.agent.lastHeartbeatTime + status.revision.current': 1,
      },
    });
  });
});
