import { describe, expect, it } from 'vitest';
import type { MachineObject } from './resources.ts';
import { machineChangedForAgent, specChanged } from './watch-changes.ts';

const condition = (type: string, status: 'True' | 'False', lastTransitionTime = '2026-01-01T00:00:00Z') => ({
  type,
  status,
  reason: 'R',
  message: '',
  lastTransitionTime,
});

const machine: MachineObject = {
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', uid: 'u1', generation: 3, resourceVersion: '10' },
  spec: { revision: 'r1', components: [{ name: 'kubelet', version: 'v1' }] },
  status: {
    phase: 'Ready',
    revision: { current: 'r1', desired: 'r1' },
    conditions: [condition('AgentReady', 'True'), condition('Drained', 'False')],
    lastOperation: { type: 'Update', state: 'Succeeded', progress: 100, message: 'converged' },
    agent: { version: '1.0.0', lastHeartbeatTime: '2026-01-01T00:00:00Z' },
  },
};

function changed(over: {
  metadata?: Partial<MachineObject['metadata']>;
  spec?: Partial<MachineObject['spec']>;
  status?: Partial<NonNullable<MachineObject['status']>>;
}): MachineObject {
  return {
    ...machine,
    metadata: { ...machine.metadata, resourceVersion: '11', ...over.metadata },
    spec: { ...machine.spec, ...over.spec },
    status: { ...machine.status, ...over.status },
  };
}

describe('which Machine updates start a pass', () => {
  it.each([
    [
      'the agent wrote a failed operation',
      {
        status: {
          lastOperation: { type: 'Update', state: 'Failed', progress: 0, message: 'download failed' },
        },
      },
    ],
    [
      'the agent wrote a heartbeat',
      { status: { agent: { version: '1.0.0', lastHeartbeatTime: '2026-01-01T00:05:00Z' } } },
    ],
    [
      'the agent flipped AgentReady',
      { status: { conditions: [condition('AgentReady', 'False'), condition('Drained', 'False')] } },
    ],
    [
      'the agent wrote its revision and components',
      { status: { revision: { desired: 'r1' }, components: [{ name: 'kubelet', state: 'Failed' }] } },
    ],
    ['the node-operator derived another phase', { status: { phase: 'Failed' } }],
    [
      'the node-operator mirrored the Node',
      {
        status: {
          nodeRef: { name: 'm' },
          conditions: [...(machine.status?.conditions ?? []), condition('NodeHealthy', 'True')],
        },
      },
    ],
    ['a label changed', { metadata: { labels: { team: 'a' } } }],
  ] as const)('not when only %s', (_, over) => {
    expect(machineChangedForAgent(machine, changed(over as Parameters<typeof changed>[0]))).toBe(false);
  });

  it.each([
    ['the spec changed', { spec: { revision: 'r2' }, metadata: { generation: 4 } }],
    ['only the spec changed (same generation seen)', { spec: { address: '10.0.0.1' } }],
    ['the generation moved', { metadata: { generation: 4 } }],
    ['the Machine is being deleted', { metadata: { deletionTimestamp: new Date('2026-01-02T00:00:00Z') } }],
    ['the Machine was recreated', { metadata: { uid: 'u2' } }],
    [
      'the node-operator reported it drained',
      {
        status: {
          conditions: [condition('AgentReady', 'True'), condition('Drained', 'True', '2026-01-02T00:00:00Z')],
        },
      },
    ],
    [
      'the host was reported decommissioned',
      {
        status: { conditions: [...(machine.status?.conditions ?? []), condition('Decommissioned', 'True')] },
      },
    ],
  ] as const)('when %s', (_, over) => {
    expect(machineChangedForAgent(machine, changed(over as Parameters<typeof changed>[0]))).toBe(true);
  });
});

describe('which Component and NodePool updates start a pass', () => {
  const spec = { versions: [{ version: 'v1', artifact: { url: 'https://a/v1.tgz', sha256: 'a' } }] };
  it('a spec change does', () => {
    expect(
      specChanged(
        { spec },
        { spec: { versions: [{ version: 'v1', artifact: { url: 'https://b/v1.tgz', sha256: 'a' } }] } },
      ),
    ).toBe(true);
  });
  it('a status change alone does not', () => {
    expect(
      specChanged(
        { spec, status: { observedGeneration: 1 } } as { spec: unknown },
        { spec: structuredClone(spec), status: { observedGeneration: 2 } } as { spec: unknown },
      ),
    ).toBe(false);
  });
});
