import type { Machine } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planDecommission } from './decommission-plan.ts';

const at = '2026-12-02T10:00:00Z';
const earlier = '2026-12-02T09:40:00Z';
const machine = (conditions: Record<string, 'True' | 'False'>, agent = true, since = at): Machine =>
  ({
    metadata: { name: 'm', deletionTimestamp: at },
    spec: {},
    status: {
      ...(agent ? { agent: { version: '0.0.0', lastHeartbeatTime: at } } : {}),
      conditions: Object.entries(conditions).map(([type, status]) => ({
        type,
        status,
        reason: 'R',
        message: '',
        lastTransitionTime: since,
      })),
    },
  }) as Machine;
const node = (ready: boolean): V1Node => ({
  metadata: { name: 'm' },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('decommission plan', () => {
  it.each([
    {
      name: 'no Node (never joined, or deleted already): release',
      m: machine({}),
      n: undefined,
      step: 'release',
    },
    { name: 'a Node not drained yet: drain', m: machine({ Drained: 'False' }), n: node(true), step: 'drain' },
    { name: 'no Drained condition yet: drain', m: machine({}), n: node(true), step: 'drain' },
    {
      name: 'Drained left from an earlier drain (a rollout): drain again',
      m: machine({ Drained: 'True', Decommissioned: 'True' }, true, earlier),
      n: node(true),
      step: 'drain',
    },
    {
      name: 'drained, the agent still running its software: wait for it',
      m: machine({ Drained: 'True' }),
      n: node(true),
      step: 'awaitAgent',
    },
    {
      name: 'drained, no agent ever reported (nothing kok installed there): delete the Node',
      m: machine({ Drained: 'True' }, false),
      n: node(true),
      step: 'deleteNode',
    },
    {
      name: 'drained and decommissioned: delete the Node',
      m: machine({ Drained: 'True', Decommissioned: 'True' }),
      n: node(true),
      step: 'deleteNode',
    },
    {
      name: 'drained, host gone (Node not Ready): no agent to wait for',
      m: machine({ Drained: 'True' }),
      n: node(false),
      step: 'deleteNode',
    },
    {
      name: 'a host that died before it drained: delete the Node (its pods go with it and start elsewhere)',
      m: machine({}),
      n: node(false),
      step: 'deleteNode',
    },
  ])('$name', ({ m, n, step }) => {
    expect(planDecommission(m, n).kind).toBe(step);
  });
});
