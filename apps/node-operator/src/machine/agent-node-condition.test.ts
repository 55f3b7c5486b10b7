import type { Machine } from '@kok/api';
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { agentNodeCondition, agentNodeConditionPatch } from './agent-node-condition.ts';

type Component = NonNullable<NonNullable<Machine['status']>['components']>[number];

function machine(agentReady: 'True' | 'False' | undefined, components: Component[] = []): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'w1' },
    spec: {},
    status: {
      components,
      conditions: agentReady
        ? [
            {
              type: 'AgentReady',
              status: agentReady,
              reason: 'x',
              message: agentReady === 'False' ? 'no heartbeat for 10m' : '',
              lastTransitionTime: '2026-12-01T00:00:00Z',
            },
          ]
        : [],
    },
  } as Machine;
}

const running = (name: string): Component => ({ name, version: 'v1', state: 'Running' });

describe('agentNodeCondition', () => {
  it.each<[string, Machine, string, string, string]>([
    ['no report yet', machine(undefined), 'Unknown', 'AgentNotReporting', 'the node agent has not reported'],
    [
      'an agent not ready',
      machine('False', [running('kubelet')]),
      'Unknown',
      'AgentNotReporting',
      'the node agent is not ready: no heartbeat for 10m',
    ],
    [
      'every component running',
      machine('True', [running('containerd'), running('kubelet')]),
      'False',
      'ComponentsHealthy',
      'no component failed (containerd, kubelet)',
    ],
    [
      'a component installing',
      machine('True', [{ name: 'kubelet', version: 'v2', state: 'Installing' }]),
      'False',
      'ComponentsHealthy',
      'no component failed (kubelet)',
    ],
    [
      'two failed components, with and without a message',
      machine('True', [
        { name: 'kubelet', version: 'v2', state: 'Failed', message: 'exited with code 1' },
        running('containerd'),
        { name: 'npd', state: 'Failed' },
      ]),
      'True',
      'ComponentFailed',
      'kubelet v2: exited with code 1; npd',
    ],
  ])('%s', (_, given, status, reason, message) => {
    expect(agentNodeCondition(given)).toEqual({ type: 'KokComponentFailed', status, reason, message });
  });
});

describe('agentNodeConditionPatch', () => {
  const now = new Date('2026-12-02T10:00:00Z');
  const desired = agentNodeCondition(machine('True', [running('kubelet')]));
  const node = (condition?: V1NodeCondition): V1Node =>
    ({ status: { conditions: condition ? [condition] : [] } }) as V1Node;

  it('writes nothing when the Node says it already', () => {
    expect(
      agentNodeConditionPatch(node({ ...desired, lastTransitionTime: now }), desired, now),
    ).toBeUndefined();
  });

  it('adds the condition, its transition now', () => {
    expect(agentNodeConditionPatch(node(), desired, now)).toEqual({
      status: { conditions: [{ ...desired, lastHeartbeatTime: now, lastTransitionTime: now }] },
    });
  });

  it('keeps the transition time when only the message changes, and moves it with the status', () => {
    const before = new Date('2026-12-01T00:00:00Z');
    const sameStatus = agentNodeConditionPatch(
      node({ ...desired, message: 'no component failed (containerd)', lastTransitionTime: before }),
      desired,
      now,
    );
    expect(sameStatus?.status.conditions[0]?.lastTransitionTime).toEqual(before);
    const flipped = agentNodeConditionPatch(
      node({ ...desired, status: 'True', lastTransitionTime: before }),
      desired,
      now,
    );
    expect(flipped?.status.conditions[0]?.lastTransitionTime).toEqual(now);
  });
});
