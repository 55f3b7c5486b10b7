import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeUnmetHealthGate, unmetHealthGates } from './health-gates.ts';

const node = (
  ...conditions: { type: string; status: string; reason?: string; message?: string }[]
): V1Node => ({
  metadata: { name: 'm1' },
  status: { conditions: [{ type: 'Ready', status: 'True' }, ...conditions] },
});
const gates = [
  { type: 'KernelDeadlock', status: 'False' as const },
  { type: 'example.com/GPUHealthy', status: 'True' as const },
];

describe('unmetHealthGates', () => {
  it.each<[string, V1Node, string[]]>([
    [
      'every gate met',
      node({ type: 'KernelDeadlock', status: 'False' }, { type: 'example.com/GPUHealthy', status: 'True' }),
      [],
    ],
    [
      'one condition has the other status',
      node(
        { type: 'KernelDeadlock', status: 'True', reason: 'DockerHung', message: 'task docker:7 blocked' },
        { type: 'example.com/GPUHealthy', status: 'True' },
      ),
      [
        'health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked)',
      ],
    ],
    [
      'Unknown meets no gate',
      node({ type: 'KernelDeadlock', status: 'Unknown' }, { type: 'example.com/GPUHealthy', status: 'True' }),
      ['health gate KernelDeadlock=False not met: Node condition KernelDeadlock is Unknown'],
    ],
    [
      'a missing condition is not met, in the order the pool lists the gates',
      node({ type: 'KernelDeadlock', status: 'True', reason: 'DockerHung' }),
      [
        'health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung)',
        'health gate example.com/GPUHealthy=True not met: the Node has no example.com/GPUHealthy condition',
      ],
    ],
  ])('%s', (_, n, expected) => {
    expect(unmetHealthGates(n, gates).map(describeUnmetHealthGate)).toEqual(expected);
  });

  it('without gates, nothing is unmet', () => {
    expect(unmetHealthGates(node(), undefined)).toEqual([]);
    expect(unmetHealthGates(node(), [])).toEqual([]);
  });
});
