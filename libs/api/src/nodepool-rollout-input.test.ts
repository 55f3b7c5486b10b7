import { describe, expect, it } from 'vitest';
import type { Machine } from './machine.ts';
import type { NodePool } from './node-pool.ts';
import {
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  describeUnmetHealthGate,
  machineRolloutState,
  machineRolloutStateWithoutNode,
  poolRolloutSpec,
  RolloutAnnotations,
  unmetHealthGates,
} from './nodepool-rollout-input.ts';
import type { NodeView } from './nodepool-rollout-input.ts';

const node = (
  ...conditions: { type: string; status: string; reason?: string; message?: string }[]
): NodeView => ({
  status: { conditions: [{ type: 'Ready', status: 'True' }, ...conditions] },
});
const gates = [
  { type: 'KernelDeadlock', status: 'False' as const },
  { type: 'example.com/GPUHealthy', status: 'True' as const },
];

describe('unmetHealthGates', () => {
  it.each<[string, NodeView, string[]]>([
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

describe('poolRolloutSpec', () => {
  const pool = (over: Partial<NodePool['spec']> = {}): NodePool =>
    ({ metadata: { name: 'p' }, spec: { template: {}, ...over } }) as NodePool;

  it('maps the CRD fields onto the planner spec', () => {
    const spec = poolRolloutSpec(
      pool({
        paused: false,
        rollout: {
          strategy: { rollingUpdate: { maxUnavailable: '5%' } },
          waves: [{ name: 'canary', count: 1, pauseAfter: true, bakeSeconds: 0 }],
          maxFailed: 2,
          autoRollback: true,
          order: { labelKeys: ['zone'] },
          progressDeadlineSeconds: 120,
        },
        drain: { timeoutSeconds: 30 },
      }),
    );
    expect(spec).toEqual({
      paused: false,
      maxUnavailable: '5%',
      waves: [{ name: 'canary', count: 1, pauseAfter: true }],
      maxFailed: 2,
      autoRollback: true,
      order: ['zone'],
      progressDeadlineSeconds: 120,
      drainTimeoutSeconds: 30,
    });
    expect(poolRolloutSpec(pool()).progressDeadlineSeconds).toBe(DEFAULT_PROGRESS_DEADLINE_SECONDS);
  });

  it.each([
    ['unset: the CRD default', undefined, DEFAULT_DRAIN_TIMEOUT_SECONDS],
    ['set', 45, 45],
    ['0: no drain timeout', 0, undefined],
  ])('drain.timeoutSeconds %s', (_, timeoutSeconds, expected) => {
    const drain = timeoutSeconds === undefined ? {} : { drain: { timeoutSeconds } };
    expect(poolRolloutSpec(pool(drain)).drainTimeoutSeconds).toBe(expected);
  });
});

describe('machineRolloutState', () => {
  const at = '2026-01-01T00:00:00Z';
  const condition = (type: string, status: 'True' | 'False', reason = 'R', message = '') => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: at,
  });
  const machine = (conditions: ReturnType<typeof condition>[], spec: Machine['spec'] = { revision: 'r2' }) =>
    ({
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'Machine',
      metadata: {
        name: 'm1',
        labels: { rack: '7' },
        annotations: { [RolloutAnnotations.revisionAssigned]: `r2/${at}` },
      },
      spec,
      status: { revision: { current: 'r1' }, conditions },
    }) as Machine;
  const context = { target: { components: [{ name: 'kubelet', version: 'v1.36.1' }] }, policy: undefined };

  it('without a Node it is not ready, and says so', () => {
    const state = machineRolloutState(machine([condition('AgentReady', 'True')]), undefined, context);
    expect(state).toMatchObject({ name: 'm1', ready: false, cordoned: false, startedAt: Date.parse(at) });
    expect(state.progressBlocker).toBe('no Node; the agent reports revision r1');
  });

  it.each([
    ['no NodeHealthy copied yet: ready by the agent', [condition('AgentReady', 'True')], true, undefined],
    [
      'NodeHealthy says the Node is not Ready',
      [condition('AgentReady', 'True'), condition('NodeHealthy', 'False', 'NodeNotReady', 'kubelet stopped')],
      false,
      'NodeHealthy False NodeNotReady: kubelet stopped',
    ],
    [
      'NodeHealthy False for another reason (a problem detector) leaves readiness to the agent',
      [condition('AgentReady', 'True'), condition('NodeHealthy', 'False', 'KernelDeadlock')],
      true,
      undefined,
    ],
  ])('read from the Machine alone (%s)', (_, conditions, ready, notReady) => {
    const state = machineRolloutStateWithoutNode(
      machine(conditions, { revision: 'r2', unschedulable: true }),
      context,
    );
    expect(state.ready).toBe(ready);
    expect(state.cordoned).toBe(true);
    expect(state.labels).toEqual({ rack: '7' });
    expect(state.progressBlocker).toBe(
      [notReady, 'the agent reports revision r1'].filter((part) => part !== undefined).join('; '),
    );
  });
});
