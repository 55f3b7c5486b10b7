import { describe, expect, it } from 'vitest';
import { machineChangedForRemediation, machineChangedForRollout } from './machine-changes.ts';
import type { MachineObject } from '@kok/api';

const condition = (type: string, status: 'True' | 'False', at = '2026-01-01T00:00:00Z') => ({
  type,
  status,
  reason: 'R',
  message: '',
  lastTransitionTime: at,
});

const base: MachineObject = {
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', uid: 'u', resourceVersion: '1', labels: { zone: 'a' } },
  spec: { pool: 'p', revision: 'r1' },
  status: {
    revision: { current: 'r1', desired: 'r1' },
    agent: { version: 'v1', lastHeartbeatTime: '2026-01-01T00:00:00Z' },
    conditions: [condition('AgentReady', 'True'), condition('UpToDate', 'True')],
  },
};

const changed = (edit: (m: MachineObject) => void): MachineObject => {
  const next = structuredClone(base);
  next.metadata = { ...next.metadata, resourceVersion: '2' };
  edit(next);
  return next;
};

describe('machine change predicates', () => {
  // [what changed, the rollout replans, remediation looks again]
  const st = (m: MachineObject): NonNullable<MachineObject['status']> => m.status ?? (m.status = {});
  const conditions = base.status?.conditions ?? [];
  // [what changed, the rollout replans, remediation looks again]
  const table: [string, (m: MachineObject) => void, boolean, boolean][] = [
    ['only the resourceVersion', () => undefined, false, false],
    [
      'the agent heartbeat',
      (m) => void (st(m).agent = { version: 'v1', lastHeartbeatTime: '2026-01-01T00:05:00Z' }),
      false,
      false,
    ],
    ['nodeRef', (m) => void (st(m).nodeRef = { name: 'm', uid: 'n' }), false, true],
    ['the phase (derived from the rest)', (m) => void (st(m).phase = 'Ready'), false, false],
    [
      'NodeHealthy',
      (m) => void (st(m).conditions = [...conditions, condition('NodeHealthy', 'False')]),
      false,
      true,
    ],
    [
      'a mirrored Node condition',
      (m) => void (st(m).conditions = [...conditions, condition('NodeKernelDeadlock', 'True')]),
      false,
      true,
    ],
    [
      'UpToDate',
      (m) => void (st(m).conditions = [condition('AgentReady', 'True'), condition('UpToDate', 'False')]),
      true,
      true,
    ],
    [
      'when UpToDate turned True',
      (m) =>
        void (st(m).conditions = [
          condition('AgentReady', 'True'),
          condition('UpToDate', 'True', '2026-01-02T00:00:00Z'),
        ]),
      true,
      true,
    ],
    ['the current revision', (m) => void (st(m).revision = { current: 'r0', desired: 'r1' }), true, true],
    ['spec.revision', (m) => void (m.spec = { pool: 'p', revision: 'r2' }), true, true],
    ['a label', (m) => void (m.metadata = { ...m.metadata, labels: { zone: 'b' } }), true, true],
    [
      'an annotation',
      (m) => void (m.metadata = { ...m.metadata, annotations: { 'nodes.kok.dev/drained': 'r1' } }),
      true,
      true,
    ],
    [
      'the agent version',
      (m) => void (st(m).agent = { version: 'v2', lastHeartbeatTime: '2026-01-01T00:00:00Z' }),
      true,
      true,
    ],
    [
      'deletionTimestamp',
      (m) =>
        void (m.metadata = { ...m.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' as string & Date }),
      true,
      true,
    ],
  ];
  it.each(table)('%s: rollout %s, remediation %s', (_, edit, rollout, remediation) => {
    const next = changed(edit);
    expect(machineChangedForRollout.update?.(base, next)).toBe(rollout);
    expect(machineChangedForRemediation.update?.(base, next)).toBe(remediation);
  });
});
