import { describe, expect, it } from 'vitest';
import type { Machine } from './machine.ts';
import type { NodePool } from './node-pool.ts';
import {
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  describeUnmetHealthGate,
  isNodePoolMember,
  machineRolloutState,
  machineRolloutStateWithoutNode,
  pausedAfterWaveValue,
  plannerMemory,
  poolRolloutMemory,
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

describe('poolRolloutSpec and poolRolloutMemory', () => {
  const pool = (
    over: Partial<NodePool['spec']> = {},
    annotations?: Record<string, string>,
    status?: NodePool['status'],
  ): NodePool =>
    ({
      metadata: { name: 'p', ...(annotations ? { annotations } : {}) },
      spec: { template: {}, ...over },
      ...(status ? { status } : {}),
    }) as NodePool;

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

  it.each([
    ['fresh revision: nothing remembered', pool(), 'r2', { rolledBack: false, resumed: false }],
    [
      'status about another revision is stale',
      pool({}, undefined, { rollout: { revision: 'r1', rolledBack: true, resumedAfterWave: 3 } }),
      'r2',
      { rolledBack: false, resumed: false },
    ],
    [
      'status about this revision is kept',
      pool({}, undefined, { rollout: { revision: 'r2', rolledBack: true, resumedAfterWave: 1 } }),
      'r2',
      { rolledBack: true, resumedAfterWave: 1 },
    ],
    [
      'paused by the operator after wave 0 and still paused',
      pool({ paused: true }, { [RolloutAnnotations.pausedAfterWave]: pausedAfterWaveValue('r2', 0) }),
      'r2',
      { pausedAfterWave: 0, resumed: false },
    ],
    [
      'a person set paused back to false: resumed past wave 0',
      pool({ paused: false }, { [RolloutAnnotations.pausedAfterWave]: pausedAfterWaveValue('r2', 0) }),
      'r2',
      { resumed: true, resumedAfterWave: 0 },
    ],
    [
      'the pause annotation of another revision means nothing',
      pool({ paused: false }, { [RolloutAnnotations.pausedAfterWave]: pausedAfterWaveValue('r1', 0) }),
      'r2',
      { resumed: false },
    ],
  ])('%s', (_, p, target, expected) => {
    const memory = poolRolloutMemory(p, target);
    expect(memory).toMatchObject(expected);
    if (!('resumedAfterWave' in expected)) expect(memory.resumedAfterWave).toBeUndefined();
  });
});

describe('plannerMemory', () => {
  it.each([
    ['nothing remembered', { rolledBack: false, resumed: false }, { rolledBack: false }],
    [
      'paused by the operator after wave 0: the machines await a resume past it',
      { rolledBack: false, resumed: false, pausedAfterWave: 0 },
      { rolledBack: false, pausedAfterWave: 0 },
    ],
    [
      'a person resumed: past wave 0, and nothing awaits a resume',
      { rolledBack: false, resumed: true, pausedAfterWave: 0, resumedAfterWave: 0 },
      { rolledBack: false, resumedAfterWave: 0 },
    ],
    ['rolled back', { rolledBack: true, resumed: false }, { rolledBack: true }],
  ])('%s', (_, memory, expected) => {
    expect(plannerMemory(memory)).toEqual(expected);
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

describe('isNodePoolMember', () => {
  const pool = (selector?: NodePool['spec']['selector']) =>
    ({
      metadata: { name: 'workers' },
      spec: { template: {}, ...(selector ? { selector } : {}) },
    }) as NodePool;
  const member = (labels: Record<string, string>, poolName?: string) =>
    ({ metadata: { name: 'm', labels }, spec: poolName ? { pool: poolName } : {} }) as Machine;

  it.each([
    ['the selector matches', member({ role: 'worker' }), pool({ matchLabels: { role: 'worker' } }), true],
    [
      'a selector outranks spec.pool',
      member({}, 'workers'),
      pool({ matchLabels: { role: 'worker' } }),
      false,
    ],
    ['no selector: spec.pool names it', member({}, 'workers'), pool(), true],
    ['no selector: spec.pool names another', member({}, 'infra'), pool(), false],
    ['no selector and no spec.pool', member({}), pool(), false],
    [
      'an expression',
      member({ zone: 'b' }),
      pool({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }),
      true,
    ],
  ])('%s', (_, machine, nodePool, expected) => {
    expect(isNodePoolMember(machine, nodePool)).toBe(expected);
  });
});
