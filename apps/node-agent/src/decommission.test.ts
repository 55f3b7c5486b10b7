import type { Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { dataPathRemovals, decommissionPhase } from './decommission.ts';

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

describe('data paths of a leaving host', () => {
  const agentDirs = ['/var/lib/kok-agent', '/opt/kok'];

  it('deletes every component’s dataPaths once, whether the spec or the inventory names it', () => {
    expect(
      dataPathRemovals(
        [
          { name: 'containerd', dataPaths: ['/var/lib/containerd', '/run/containerd'] },
          { name: 'kubelet', dataPaths: ['/var/lib/kubelet'] },
          { name: 'pause-image' },
          // The inventory's record of the same component, and of one the spec dropped earlier.
          { name: 'containerd', dataPaths: ['/var/lib/containerd', '/run/containerd'] },
          { name: 'old-cni', dataPaths: ['/var/lib/cni'] },
        ],
        agentDirs,
      ),
    ).toEqual({
      remove: [
        { component: 'containerd', path: '/var/lib/containerd' },
        { component: 'containerd', path: '/run/containerd' },
        { component: 'kubelet', path: '/var/lib/kubelet' },
        { component: 'old-cni', path: '/var/lib/cni' },
      ],
      kept: [],
    });
  });

  it('keeps a path that would take the agent’s own directories with it, saying why', () => {
    expect(dataPathRemovals([{ name: 'greedy', dataPaths: ['/var/lib', '/srv/greedy'] }], agentDirs)).toEqual(
      {
        remove: [{ component: 'greedy', path: '/srv/greedy' }],
        kept: [
          {
            component: 'greedy',
            path: '/var/lib',
            reason: "/var/lib holds the node-agent's own /var/lib/kok-agent",
          },
        ],
      },
    );
  });
});
