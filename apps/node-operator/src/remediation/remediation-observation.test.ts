import type { Machine } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRemediationRecord,
  parseRemediationRecord,
  rebootAfterDrainPatch,
  remediationActionPatch,
  remediationCandidateFor,
  remediationFinishPatch,
  remediationReleasePatch,
} from './remediation-observation.ts';
import type { RemediationActionSpec, RemediationRecord } from './remediation-plan.ts';
import { OperatorAnnotations } from '../shared/resources.ts';

const NOW = new Date('2026-01-02T03:04:05Z');
const machine = (spec: Machine['spec'] = {}, annotations: Record<string, string> = {}): Machine => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm1', resourceVersion: '42', annotations },
  spec,
});
const act = (action: RemediationActionSpec) => ({ machine: 'm1', step: 1, action, reason: 'r' });

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

describe('remediationActionPatch', () => {
  it.each([
    [
      { type: 'RestartComponent', component: 'kubelet' },
      { restartGeneration: 4, restartComponent: 'kubelet' },
    ],
    [
      { type: 'Reinstall', component: 'containerd' },
      { reinstallGeneration: 1, reinstallComponent: 'containerd' },
    ],
    // A reboot waits for the drain: the cordon now, rebootGeneration once the Node is empty.
    [{ type: 'Reboot' }, { unschedulable: true }],
    [{ type: 'Cordon' }, { unschedulable: true }],
    [{ type: 'Drain' }, { unschedulable: true }],
  ] as const)('%j writes %j with the resourceVersion and the record', (action, spec) => {
    const patch = remediationActionPatch(
      machine({ restartGeneration: 3, rebootGeneration: 2 }),
      'rp',
      act(action),
      undefined,
      NOW,
    );
    expect(patch.spec).toEqual(spec);
    const metadata = patch.metadata as {
      resourceVersion: string;
      annotations: Record<string, string | null>;
    };
    expect(metadata.resourceVersion).toBe('42');
    expect(
      parseRemediationRecord(metadata.annotations[OperatorAnnotations.remediation] ?? undefined),
    ).toEqual({
      policy: 'rp',
      step: 1,
      action: action.type,
      startedAt: NOW.getTime(),
      state: 'InProgress',
      ...(action.type === 'Cordon' || action.type === 'Drain' || action.type === 'Reboot'
        ? { cordoned: true }
        : {}),
      ...(action.type === 'Reboot' ? { drainingBeforeReboot: true } : {}),
    });
  });

  it('issues the reboot once drained: rebootGeneration up by one, the clock restarted, the cordon still owned', () => {
    const draining: RemediationRecord = {
      policy: 'rp',
      step: 2,
      action: 'Reboot',
      startedAt: NOW.getTime() - 60_000,
      state: 'InProgress',
      cordoned: true,
      drainingBeforeReboot: true,
    };
    const patch = rebootAfterDrainPatch(machine({ rebootGeneration: 2, unschedulable: true }), draining, NOW);
    expect(patch.spec).toEqual({ rebootGeneration: 3 });
    const metadata = patch.metadata as { resourceVersion: string; annotations: Record<string, string> };
    expect(metadata.resourceVersion).toBe('42');
    expect(parseRemediationRecord(metadata.annotations[OperatorAnnotations.remediation])).toEqual({
      policy: 'rp',
      step: 2,
      action: 'Reboot',
      startedAt: NOW.getTime(),
      state: 'InProgress',
      cordoned: true,
    });
  });

  it('does not claim a cordon someone else made, so finishing leaves it', () => {
    const cordoned = machine({ unschedulable: true });
    const patch = remediationActionPatch(cordoned, 'rp', act({ type: 'Cordon' }), undefined, NOW);
    expect(patch.spec).toBeUndefined();
    const record = parseRemediationRecord(
      (patch.metadata as { annotations: Record<string, string> }).annotations[
        OperatorAnnotations.remediation
      ],
    );
    expect(record?.cordoned).toBeUndefined();
    expect(remediationFinishPatch(cordoned, record).spec).toBeUndefined();
  });

  it('lifts its own cordon when finishing, after a later step too', () => {
    const first = remediationActionPatch(machine(), 'rp', act({ type: 'Cordon' }), undefined, NOW);
    const record = parseRemediationRecord(
      (first.metadata as { annotations: Record<string, string> }).annotations[
        OperatorAnnotations.remediation
      ],
    );
    const reboot = remediationActionPatch(
      machine({ unschedulable: true }),
      'rp',
      act({ type: 'Reboot' }),
      record,
      NOW,
    );
    const after = parseRemediationRecord(
      (reboot.metadata as { annotations: Record<string, string> }).annotations[
        OperatorAnnotations.remediation
      ],
    );
    expect(after?.cordoned).toBe(true);
    expect(remediationFinishPatch(machine({ unschedulable: true }), after).spec).toEqual({
      unschedulable: false,
    });
  });

  it('releases a machine whose policy was deleted: the record goes, its own cordon is lifted, guarded by resourceVersion', () => {
    const cordon = remediationActionPatch(machine(), 'rp', act({ type: 'Cordon' }), undefined, NOW);
    const record = parseRemediationRecord(
      (cordon.metadata as { annotations: Record<string, string> }).annotations[
        OperatorAnnotations.remediation
      ],
    ) as RemediationRecord;
    expect(remediationReleasePatch(machine({ unschedulable: true }), record)).toEqual({
      metadata: { resourceVersion: '42', annotations: { [OperatorAnnotations.remediation]: null } },
      spec: { unschedulable: false },
    });
    const restart = { ...record, action: 'RestartComponent', cordoned: false } as RemediationRecord;
    expect(remediationReleasePatch(machine(), restart).spec).toBeUndefined();
  });
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
