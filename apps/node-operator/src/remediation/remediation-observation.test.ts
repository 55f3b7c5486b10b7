import type { Machine, NodePool, RemediationPolicy } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  observeRemediation,
  parseRemediationRecord,
  RemediationCandidates,
  remediationCandidateFor,
} from './remediation-observation.ts';
import type { RemediationFleet } from './remediation-observation.ts';
import { formatRemediationRecord } from './remediation-patches.ts';
import type { RemediationRecord } from './remediation-plan.ts';

const machine = (spec: Machine['spec'] = {}, annotations: Record<string, string> = {}): Machine => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm1', resourceVersion: '42', annotations },
  spec,
});

describe('remediation record', () => {
  it('round-trips through the annotation', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            policy: fc.string({ minLength: 1 }),
            step: fc.nat(7),
            action: fc.constantFrom(
              'RestartComponent',
              'Reinstall',
              'Cordon',
              'Drain',
              'Reboot',
            ) as fc.Arbitrary<RemediationRecord['action']>,
            startedAt: fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => s * 1000),
            state: fc.constantFrom('InProgress', 'Exhausted', 'Succeeded') as fc.Arbitrary<
              RemediationRecord['state']
            >,
            cordoned: fc.constant(true),
            drainingBeforeReboot: fc.constant(true),
          },
          { requiredKeys: ['policy', 'step', 'action', 'startedAt', 'state'] },
        ),
        (record) => {
          expect(parseRemediationRecord(formatRemediationRecord(record))).toEqual(record);
        },
      ),
    );
  });
  it.each([
    '',
    'not json',
    '{"policy":"p"}',
    '{"policy":"p","step":0,"action":"Explode","startedAt":"2026-01-01T00:00:00Z","state":"InProgress"}',
  ])('ignores an unreadable value %j', (value) => expect(parseRemediationRecord(value)).toBeUndefined());
});

describe('remediationCandidateFor', () => {
  it('sees Node and Machine conditions with their transition times, the request and the Remediating condition', () => {
    const m: Machine = {
      ...machine({}, { 'nodes.kok.dev/remediate': '' }),
      status: {
        conditions: [
          {
            type: 'Remediating',
            status: 'True',
            reason: 'Cordon',
            message: '',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    };
    const node = {
      status: {
        conditions: [{ type: 'KernelDeadlock', status: 'True', lastTransitionTime: '2026-01-01T00:01:00Z' }],
      },
    } as unknown as V1Node;
    expect(remediationCandidateFor(m, node, 'pool-a', true)).toEqual({
      name: 'm1',
      pool: 'pool-a',
      conditions: [
        { type: 'KernelDeadlock', status: 'True', since: Date.parse('2026-01-01T00:01:00Z') },
        { type: 'Remediating', status: 'True', since: Date.parse('2026-01-01T00:00:00Z') },
      ],
      requested: true,
      remediating: true,
      occupiesBudget: true,
    });
  });
});

describe('RemediationCandidates', () => {
  it('computes a cached (frozen) Machine again only when it or what it is judged with changed', () => {
    const candidates = new RemediationCandidates();
    const cached = Object.freeze(machine());
    const first = candidates.of(cached, undefined, 'a', false);
    expect(candidates.of(cached, undefined, 'a', false)).toBe(first);
    const occupying = candidates.of(cached, undefined, 'a', true);
    expect(occupying).not.toBe(first);
    expect(occupying.occupiesBudget).toBe(true);
    expect(candidates.of(cached, undefined, 'b', true).pool).toBe('b');
    // Another reconciler keeps its own; an object that is not a frozen cache entry is never kept.
    expect(new RemediationCandidates().of(cached, undefined, 'a', false)).not.toBe(first);
    const loose = machine();
    expect(candidates.of(loose, undefined, 'a', false)).not.toBe(candidates.of(loose, undefined, 'a', false));
  });
});

describe('observeRemediation', () => {
  const at = '2026-01-01T00:00:00Z';
  const pool = (name: string): NodePool =>
    ({
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'NodePool',
      metadata: { name, creationTimestamp: at },
      spec: { template: {}, rollout: { strategy: { rollingUpdate: { maxUnavailable: 2 } } } },
    }) as NodePool;
  const member = (
    name: string,
    over: { pool?: string; role?: string; annotations?: Record<string, string> } = {},
  ): Machine => ({
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, labels: { role: over.role ?? 'worker' }, annotations: over.annotations ?? {} },
    spec: over.pool === undefined ? {} : { pool: over.pool },
    status: {
      conditions: [{ type: 'AgentReady', status: 'True', reason: 'R', message: '', lastTransitionTime: at }],
    },
  });
  const readyNode: V1Node = {
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(at) }] },
  };
  // Ready Nodes for w1 and p1; the others have none, so they are unavailable and take a budget place.
  const fleet: RemediationFleet<Machine> = {
    machines: [
      member('w1', { pool: 'a' }),
      member('w2', { pool: 'a' }),
      member('x1', { pool: 'a', role: 'infra' }),
      member('p1', { pool: 'a', annotations: { 'nodes.kok.dev/paused': 'yes' } }),
      member('b1', { pool: 'b', role: 'infra' }),
      member('loose'),
    ],
    pools: [pool('a'), pool('b')],
    nodeOf: (name) => (name === 'w1' || name === 'p1' ? readyNode : undefined),
  };
  const policy = (stormActive?: { status: 'True' | 'False'; reason: string }): RemediationPolicy => ({
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'RemediationPolicy',
    metadata: { name: 'rp' },
    spec: {
      selector: { matchLabels: { role: 'worker' } },
      unhealthyConditions: [{ type: 'Ready', status: 'False', duration: '1m' }],
      actions: [{ type: 'Cordon' }],
    },
    ...(stormActive
      ? {
          status: {
            conditions: [{ type: 'StormActive', ...stormActive, message: '', lastTransitionTime: at }],
          },
        }
      : {}),
  });
  const clock = { now: Date.parse(at) + 60_000, cooldownMs: 300_000 };

  it("takes the policy's unpaused machines as candidates and counts each of their pools' budget over all its machines", () => {
    const observed = observeRemediation(policy(), fleet, new RemediationCandidates(), clock);
    expect([...observed.machines.keys()]).toEqual(['w1', 'w2', 'loose']);
    expect(observed.pools).toEqual(new Set(['a']));
    expect(
      observed.input.machines.map(({ name, pool, occupiesBudget }) => ({ name, pool, occupiesBudget })),
    ).toEqual([
      { name: 'w1', pool: 'a', occupiesBudget: false },
      { name: 'w2', pool: 'a', occupiesBudget: true },
      { name: 'loose', pool: undefined, occupiesBudget: false },
    ]);
    // Pool a: four machines (maxUnavailable 2 of 4 is 2), w2 and x1 without a Node take a place; pool b is not the policy's.
    expect(observed.input.budgets).toEqual(new Map([['a', { limit: 2, used: 2 }]]));
    expect(observed.input).toMatchObject({ policy: 'rp', now: clock.now, cooldownMs: clock.cooldownMs });
  });

  it.each([
    { storm: undefined, memory: { stormWasActive: false, stormEndedAt: undefined, stormReason: undefined } },
    {
      storm: { status: 'True', reason: 'TooManyUnhealthy' },
      memory: { stormWasActive: true, stormEndedAt: undefined, stormReason: 'TooManyUnhealthy' },
    },
    {
      storm: { status: 'False', reason: 'CoolingDown' },
      memory: { stormWasActive: false, stormEndedAt: Date.parse(at), stormReason: 'CoolingDown' },
    },
    {
      storm: { status: 'False', reason: 'NoStorm' },
      memory: { stormWasActive: false, stormEndedAt: undefined, stormReason: 'NoStorm' },
    },
  ] as const)('reads the storm memory from StormActive $storm', ({ storm, memory }) => {
    const { input } = observeRemediation(policy(storm), fleet, new RemediationCandidates(), clock);
    expect({
      stormWasActive: input.stormWasActive,
      stormEndedAt: input.stormEndedAt,
      stormReason: input.stormReason,
    }).toEqual(memory);
  });
});
