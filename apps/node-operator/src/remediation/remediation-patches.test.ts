import type { Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { OperatorAnnotations } from '../shared/resources.ts';
import { parseRemediationRecord } from './remediation-observation.ts';
import {
  rebootAfterDrainPatch,
  remediationActionPatch,
  remediationFinishPatch,
  remediationReleasePatch,
} from './remediation-patches.ts';
import type { RemediationActionSpec, RemediationRecord } from './remediation-plan.ts';

const NOW = new Date('2026-01-02T03:04:05Z');
const machine = (spec: Machine['spec'] = {}, annotations: Record<string, string> = {}): Machine => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm1', resourceVersion: '42', annotations },
  spec,
});
const act = (action: RemediationActionSpec) => ({ machine: 'm1', step: 1, action, reason: 'r' });

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
