import type { Machine } from '@kok/api';
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { machineNodeStatus, machineNodeStatusChanged } from './node-conditions.ts';

const now = new Date('2026-12-02T10:00:00Z');
const machine = {
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'w1' },
  spec: {},
} as Machine;
const node = (...conditions: V1NodeCondition[]): V1Node =>
  ({ metadata: { name: 'w1', uid: 'u1' }, status: { conditions } }) as V1Node;
const ready: V1NodeCondition = { type: 'Ready', status: 'True', reason: 'KubeletReady' };

describe('machineNodeStatus', () => {
  it('mirrors a problem detector condition as Node<Type> and counts it against NodeHealthy', () => {
    const status = machineNodeStatus(
      machine,
      node(ready, { type: 'KernelDeadlock', status: 'True', reason: 'DockerHung', message: 'blocked' }),
      now,
    );
    expect(status.conditions.map((c) => [c.type, c.status])).toEqual([
      ['NodeHealthy', 'False'],
      ['NodeKernelDeadlock', 'True'],
    ]);
    expect(status.nodeRef).toEqual({ name: 'w1', uid: 'u1' });
  });

  it("does not echo KokComponentFailed (made from the Machine's own status), yet a True one is a Node problem", () => {
    const failed: V1NodeCondition = { type: 'KokComponentFailed', status: 'True', reason: 'ComponentFailed' };
    const status = machineNodeStatus(machine, node(ready, failed), now);
    expect(status.conditions.map((c) => c.type)).toEqual(['NodeHealthy']);
    expect(status.conditions[0]).toMatchObject({ status: 'False', reason: 'NodeProblem' });
    const fine = machineNodeStatus(machine, node(ready, { ...failed, status: 'False' }), now);
    expect(fine.conditions.map((c) => [c.type, c.status])).toEqual([['NodeHealthy', 'True']]);
  });

  it('carries the phase, and a new phase alone is a change to write', () => {
    const status = machineNodeStatus(machine, node(ready), now);
    expect(status.phase).toBe('Pending');
    const written = { ...machine, status: { ...status, phase: 'Ready' as const } } as Machine;
    expect(machineNodeStatusChanged(written, status)).toBe(true);
    expect(machineNodeStatusChanged({ ...machine, status } as Machine, status)).toBe(false);
  });
});
