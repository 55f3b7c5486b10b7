import type { Condition, Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { machinePhase } from './machine-phase.ts';

const condition = (type: string, status: Condition['status'], reason = 'x'): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-12-01T00:00:00Z',
});

interface Shape {
  conditions?: Condition[];
  failedComponent?: boolean;
  annotations?: Record<string, string>;
  deleting?: boolean;
  revision?: { spec: string; current?: string };
  nodeRef?: boolean;
}

function machine(shape: Shape): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name: 'w1',
      annotations: shape.annotations ?? {},
      ...(shape.deleting ? { deletionTimestamp: '2026-12-01T00:00:00Z' } : {}),
    },
    spec: { ...(shape.revision ? { revision: shape.revision.spec } : {}) },
    status: {
      conditions: shape.conditions ?? [],
      components: [{ name: 'kubelet', state: shape.failedComponent ? 'Failed' : 'Running' }],
      ...(shape.revision?.current ? { revision: { current: shape.revision.current } } : {}),
      ...(shape.nodeRef ? { nodeRef: { name: 'w1' } } : {}),
    },
  } as Machine;
}

const reporting = condition('AgentReady', 'True');
const healthy = { status: 'True' } as const;
const unhealthy = { status: 'False' } as const;

describe('machinePhase', () => {
  it.each<[string, Shape, 'True' | 'False', string]>([
    ['an agent that never reported', {}, 'True', 'Pending'],
    [
      'an agent that stopped reporting',
      { conditions: [condition('AgentReady', 'Unknown')] },
      'True',
      'Unknown',
    ],
    ['a failed component', { conditions: [reporting], failedComponent: true }, 'True', 'Failed'],
    [
      'UpToDate False for a failed component',
      { conditions: [reporting, condition('UpToDate', 'False', 'ComponentFailed')] },
      'True',
      'Failed',
    ],
    [
      'the rollout counts it failed (progress deadline), while it still updates',
      {
        conditions: [reporting, condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded')],
        revision: { spec: 'b', current: 'a' },
      },
      'True',
      'Failed',
    ],
    [
      'RolloutFailed False is no failure',
      { conditions: [reporting, condition('RolloutFailed', 'False')], revision: { spec: 'a', current: 'a' } },
      'True',
      'Ready',
    ],
    [
      'the rollout counts it failed, its agent not ready (a download that keeps failing)',
      {
        conditions: [
          condition('AgentReady', 'False', 'ArtifactDownloadFailed'),
          condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded'),
        ],
      },
      'False',
      'Failed',
    ],
    [
      'the rollout counts it failed, its agent never reported',
      { conditions: [condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded')] },
      'False',
      'Failed',
    ],
    ['a remediation', { conditions: [reporting, condition('Remediating', 'True')] }, 'False', 'Remediating'],
    [
      "a rollout's drain",
      { conditions: [reporting], annotations: { 'nodes.kok.dev/drain-started-at': '2026-12-01T00:00:00Z' } },
      'True',
      'Draining',
    ],
    ['a leaving host', { conditions: [reporting], deleting: true }, 'True', 'Draining'],
    ['the agent updating', { conditions: [reporting, condition('Updating', 'True')] }, 'True', 'Updating'],
    [
      'a revision not reached yet',
      { conditions: [reporting], revision: { spec: 'b', current: 'a' } },
      'True',
      'Updating',
    ],
    [
      'at its revision, Node healthy',
      { conditions: [reporting], revision: { spec: 'a', current: 'a' } },
      'True',
      'Ready',
    ],
    ['a Node not registered yet', { conditions: [reporting] }, 'False', 'Pending'],
    ['a Node not healthy', { conditions: [reporting], nodeRef: true }, 'False', 'Unknown'],
  ])('%s', (_, shape, node, phase) => {
    expect(machinePhase(machine(shape), node === 'True' ? healthy : unhealthy)).toBe(phase);
  });

  it('a drain that finished is no longer Draining', () => {
    const drained = machine({
      conditions: [reporting],
      annotations: {
        'nodes.kok.dev/drain-started-at': '2026-12-01T00:00:00Z',
        'nodes.kok.dev/drained': '2026-12-01T00:01:00Z',
      },
    });
    expect(machinePhase(drained, healthy)).toBe('Ready');
  });
});
