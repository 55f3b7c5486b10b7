import type { Machine } from '@kok/api';
import type { WaitReason } from '@kok/rollout';
import { describe, expect, it } from 'vitest';
import { machineWaitReasons, poolHoldReason } from './machine-wait-reasons.ts';

const AGENT_READY = {
  type: 'AgentReady',
  status: 'True' as const,
  reason: 'Ready',
  message: '',
  lastTransitionTime: '2026-12-01T09:00:00Z',
};

function machine(name: string, overrides: Partial<Machine> = {}, revision = 'r1'): Machine {
  return {
    metadata: { name },
    spec: { revision },
    status: { revision: { current: revision }, conditions: [AGENT_READY] },
    ...overrides,
  } as Machine;
}

const wave: WaitReason = { kind: 'WaitingForWave', wave: 'waves[1]', currentWave: 'waves[0]' };
const drainBlocked: WaitReason = {
  kind: 'DrainBlocked',
  pod: 'shop/db-0',
  podDisruptionBudget: 'shop/db',
  detail: 'eviction refused',
};
const skew: WaitReason = {
  kind: 'VersionSkew',
  problem: 'kubelet v1.37.0 would be newer than the apiserver',
};

describe('machineWaitReasons', () => {
  const reasonOf = (hold?: WaitReason) =>
    machineWaitReasons({
      target: 'r2',
      waiting: [
        { machine: 'waiting', reason: wave },
        { machine: 'paused-pool', reason: { kind: 'Paused' } },
        { machine: 'draining', reason: wave },
        {
          machine: 'after-canary',
          reason: { kind: 'AwaitingResume', wave: 'waves[0]', nextWave: 'waves[1]' },
        },
      ],
      drainBlocks: new Map([['draining', drainBlocked]]),
      hold,
    });

  it.each<[string, Machine, WaitReason | undefined, WaitReason | undefined]>([
    ['the planner’s reason', machine('waiting'), undefined, wave],
    ['a drain refused in this pass, naming its budget', machine('draining'), undefined, drainBlocked],
    ['spec.paused as the planner saw it', machine('paused-pool'), undefined, { kind: 'Paused' }],
    ['the version-skew guard behind that pause', machine('paused-pool'), skew, skew],
    ['the version-skew guard behind a pause after a wave', machine('after-canary'), skew, skew],
    [
      'a person’s nodes.kok.dev/paused before all else',
      machine('waiting', { metadata: { name: 'waiting', annotations: { 'nodes.kok.dev/paused': 'yes' } } }),
      undefined,
      { kind: 'MachinePaused', annotation: 'nodes.kok.dev/paused' },
    ],
    [
      'nothing for a paused Machine already at the target',
      machine('done', { metadata: { name: 'done', annotations: { 'nodes.kok.dev/paused': '' } } }, 'r2'),
      undefined,
      undefined,
    ],
    ['nothing for a machine being updated', machine('updating', {}, 'r2'), undefined, undefined],
    [
      'an agent that never reported',
      machine('silent', { status: {} }),
      undefined,
      { kind: 'AgentNotReporting' },
    ],
    [
      'an agent that stopped before saying it was ready, since its last heartbeat',
      machine('silent', { status: { agent: { lastHeartbeatTime: '2026-12-01T09:00:00Z' } } }),
      undefined,
      { kind: 'AgentNotReporting', since: Date.parse('2026-12-01T09:00:00Z') },
    ],
  ])('%s', (_, given, hold, expected) => {
    expect(reasonOf(hold)(given)).toEqual(expected);
  });
});

describe('poolHoldReason', () => {
  it('puts the version-skew guard before the catalog, and names every catalog problem', () => {
    const problems = [
      {
        reason: 'VersionNotFound' as const,
        component: 'kubelet',
        version: 'v9',
        message: 'kubelet v9: no v9',
      },
      { reason: 'ComponentNotFound' as const, component: 'x', version: '1', message: 'x 1: no Component' },
    ];
    expect(poolHoldReason('too new', problems)).toEqual({ kind: 'VersionSkew', problem: 'too new' });
    expect(poolHoldReason(undefined, problems)).toEqual({
      kind: 'CatalogProblem',
      problem: 'VersionNotFound',
      detail: 'kubelet v9: no v9; x 1: no Component',
    });
    expect(poolHoldReason(undefined, [])).toBeUndefined();
  });
});
