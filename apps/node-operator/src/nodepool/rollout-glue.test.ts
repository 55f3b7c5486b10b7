/** Tables for the observe → plan glue: Machine + Node → planner input, and the patches that write its decisions. */
import { needsDisruption, revisionAssignedValue } from '@kok/api';
import type { Machine } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { assignmentPatch, cordonPatch, uncordonPatch } from '../shared/machine-patches.ts';
import { machineStateFor } from '../shared/machine-observation.ts';
import { OperatorAnnotations } from '../shared/resources.ts';

const kubelet = (version: string) => ({ components: [{ name: 'kubelet', version }] });
const readyNode = (unschedulable = false): V1Node => ({
  metadata: { name: 'm1', labels: { zone: 'a' } },
  spec: { unschedulable },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});
const cond = (type: string, status: 'True' | 'False', reason = 'R', message = '') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});
function machine(
  over: { annotations?: Record<string, string>; spec?: Machine['spec']; status?: Machine['status'] } = {},
): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name: 'm1',
      labels: { rack: '7' },
      ...(over.annotations ? { annotations: over.annotations } : {}),
    },
    spec: { revision: 'r1', ...kubelet('v1.36.0'), ...over.spec },
    status: over.status ?? {
      revision: { current: 'r1' },
      conditions: [cond('AgentReady', 'True'), cond('UpToDate', 'True')],
    },
  } as Machine;
}

describe('machineStateFor', () => {
  it.each([
    [
      'healthy and ready',
      machine(),
      readyNode(),
      { ready: true, cordoned: false, currentRevision: 'r1', desiredRevision: 'r1' },
    ],
    ['no Node: not ready', machine(), undefined, { ready: false }],
    [
      'agent not ready',
      machine({ status: { revision: { current: 'r1' }, conditions: [cond('AgentReady', 'False')] } }),
      readyNode(),
      { ready: false },
    ],
    ['cordoned by someone', machine(), readyNode(true), { cordoned: true, cordonedByRollout: false }],
    [
      'rollout marker counts as cordoned before the Node follows',
      machine({ annotations: { [OperatorAnnotations.cordonedByRollout]: 'r2' } }),
      readyNode(),
      { cordoned: true, cordonedByRollout: true },
    ],
    [
      'drained marker',
      machine({ annotations: { [OperatorAnnotations.drained]: 'r2' } }),
      readyNode(),
      { drained: true },
    ],
    [
      'a failed component fails the revision the agent converges to',
      machine({
        status: {
          revision: { current: 'r1', desired: 'r2' },
          components: [{ name: 'kubelet', state: 'Failed', message: 'exec check exited 1' }],
          conditions: [cond('AgentReady', 'True')],
        },
      }),
      readyNode(),
      { failedRevision: 'r2', failureMessage: 'kubelet: exec check exited 1' },
    ],
    [
      'remediating',
      machine({ status: { conditions: [cond('Remediating', 'True')] } }),
      readyNode(),
      { underRemediation: true },
    ],
  ])('%s', (_, m, node, expected) => {
    expect(machineStateFor(m, node, kubelet('v1.36.1'), undefined)).toMatchObject(expected);
  });

  const told = (value: string) => ({ annotations: { [OperatorAnnotations.revisionAssigned]: value } });
  const stuckStatus = (agentReady: ReturnType<typeof cond>): Machine['status'] => ({
    revision: { current: 'r1', desired: 'r2' },
    conditions: [agentReady, cond('UpToDate', 'False', 'Converging', 'converging to revision r2')],
  });
  it.each<[string, Machine, V1Node | undefined, number | undefined, string | undefined]>([
    [
      'told r2 by the rollout, download failing',
      machine({
        ...told('r2/2026-01-01T00:00:01.500Z'),
        spec: { revision: 'r2' },
        status: stuckStatus(cond('AgentReady', 'False', 'ArtifactDownloadFailed', 'sha256 mismatch')),
      }),
      readyNode(),
      Date.parse('2026-01-01T00:00:01.500Z'),
      'AgentReady False ArtifactDownloadFailed: sha256 mismatch',
    ],
    [
      'the version does not exist',
      machine({
        ...told('r2/2026-01-01T00:00:00Z'),
        spec: { revision: 'r2' },
        status: stuckStatus(
          cond('AgentReady', 'False', 'VersionNotFound', 'Component "kubelet" lists no version'),
        ),
      }),
      readyNode(),
      Date.parse('2026-01-01T00:00:00Z'),
      'AgentReady False VersionNotFound: Component "kubelet" lists no version',
    ],
    [
      'still converging',
      machine({ spec: { revision: 'r2' }, status: stuckStatus(cond('AgentReady', 'True', 'Converged')) }),
      readyNode(),
      undefined,
      'UpToDate False Converging: converging to revision r2',
    ],
    [
      'updated but the Node went NotReady',
      machine({ ...told('r1/2026-01-01T00:00:00Z') }),
      {
        ...readyNode(),
        status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] },
      },
      Date.parse('2026-01-01T00:00:00Z'),
      'Node NotReady (KubeletNotReady)',
    ],
    ['no Node', machine(), undefined, undefined, 'no Node'],
    [
      'the record is about another revision (a person changed spec.revision)',
      machine(told('r0/2026-01-01T00:00:00Z')),
      readyNode(),
      undefined,
      undefined,
    ],
    ['a garbled record', machine(told('r1/yesterday')), readyNode(), undefined, undefined],
  ])('progress: %s', (_, m, node, startedAt, blocker) => {
    const state = machineStateFor(m, node, kubelet('v1.36.1'), undefined);
    expect(state.startedAt).toBe(startedAt);
    expect(state.progressBlocker).toBe(blocker);
  });

  const deadlocked = (status: 'True' | 'False' | undefined): V1Node => ({
    ...readyNode(),
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        ...(status
          ? [{ type: 'KernelDeadlock', status, reason: 'DockerHung', message: 'task docker:7 blocked' }]
          : []),
      ],
    },
  });
  const noDeadlock = [{ type: 'KernelDeadlock', status: 'False' as const }];
  it.each<[string, V1Node | undefined, string[] | undefined, string | undefined]>([
    ['the gate met', deadlocked('False'), undefined, undefined],
    [
      'the condition says otherwise',
      deadlocked('True'),
      ['KernelDeadlock=False'],
      'health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked)',
    ],
    [
      'the Node has no such condition',
      deadlocked(undefined),
      ['KernelDeadlock=False'],
      'health gate KernelDeadlock=False not met: the Node has no KernelDeadlock condition',
    ],
    ['no Node: not ready already, gates not judged', undefined, undefined, 'no Node'],
  ])('health gates: %s', (_, node, unmet, blocker) => {
    const state = machineStateFor(machine(), node, kubelet('v1.36.1'), undefined, noDeadlock);
    expect(state.unmetHealthGates).toEqual(unmet);
    expect(state.progressBlocker).toBe(blocker);
    expect(state.ready).toBe(node !== undefined);
  });

  it('judges the gates of the pool it is given, not those of an earlier call on the same objects', () => {
    const m = Object.freeze(machine());
    const node = Object.freeze(deadlocked('True'));
    expect(machineStateFor(m, node, kubelet('v1.36.1'), undefined).unmetHealthGates).toBeUndefined();
    expect(machineStateFor(m, node, kubelet('v1.36.1'), undefined, noDeadlock).unmetHealthGates).toEqual([
      'KernelDeadlock=False',
    ]);
  });

  it.each<[string, Record<string, string>, Machine['status'], number | undefined, string | undefined]>([
    [
      'cordoned by the rollout, a PDB in the way',
      {
        [OperatorAnnotations.cordonedByRollout]: 'r2',
        [OperatorAnnotations.drainStartedAt]: '2026-01-01T00:00:05Z',
      },
      {
        revision: { current: 'r1' },
        conditions: [
          cond('AgentReady', 'True'),
          cond('Drained', 'False', 'DrainTimeout', 'waiting for shop/db-0 (eviction refused: budget)'),
        ],
      },
      Date.parse('2026-01-01T00:00:05Z'),
      'waiting for shop/db-0 (eviction refused: budget)',
    ],
    [
      'drained',
      {
        [OperatorAnnotations.cordonedByRollout]: 'r2',
        [OperatorAnnotations.drainStartedAt]: '2026-01-01T00:00:05Z',
      },
      { revision: { current: 'r1' }, conditions: [cond('Drained', 'True', 'Drained', 'all pods gone')] },
      Date.parse('2026-01-01T00:00:05Z'),
      undefined,
    ],
    [
      'not cordoned by the rollout (a remediation drains it)',
      { [OperatorAnnotations.drainStartedAt]: '2026-01-01T00:00:05Z' },
      { revision: { current: 'r1' }, conditions: [cond('Drained', 'False', 'DrainBlocked', 'waiting')] },
      undefined,
      undefined,
    ],
  ])('drain: %s', (_, annotations, status, drainStartedAt, drainBlocker) => {
    const state = machineStateFor(
      machine({ annotations, status }),
      readyNode(),
      kubelet('v1.36.1'),
      undefined,
    );
    expect(state.drainStartedAt).toBe(drainStartedAt);
    expect(state.drainBlocker).toBe(drainBlocker);
  });

  it('reads labels from the Machine and its Node (order keys are Node labels), and finishedAt from UpToDate', () => {
    const state = machineStateFor(machine(), readyNode(), kubelet('v1.36.1'), undefined);
    expect(state.labels).toEqual({ rack: '7', zone: 'a' });
    expect(state.finishedAt).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(state.needsDisruption).toBe(true);
  });
});

describe('needsDisruption', () => {
  it.each([
    ['a kubelet change drains by default', undefined, true],
    ['priced None: no drain', { defaultAction: 'None' as const }, false],
    [
      'priced Restart for this component: no drain',
      { components: [{ name: 'kubelet', action: 'Restart' as const }] },
      false,
    ],
    ['priced Drain: drain', { defaultAction: 'Drain' as const }, true],
  ])('%s', (_, policy, expected) => {
    expect(needsDisruption(kubelet('v1.36.0'), kubelet('v1.36.1'), policy)).toBe(expected);
  });
  it('no change, no drain', () =>
    expect(needsDisruption(kubelet('v1.36.0'), kubelet('v1.36.0'), undefined)).toBe(false));
});

describe('machine patches', () => {
  it('assignment writes the revision with its components, and takes back template labels it no longer has', () => {
    const m = machine({ annotations: { [OperatorAnnotations.templateLabelKeys]: 'old,kept' } });
    const at = new Date('2026-01-01T00:00:00.250Z');
    const patch = assignmentPatch(m, 'r2', { ...kubelet('v1.36.1'), labels: { kept: 'y', fresh: 'z' } }, at);
    expect(patch).toMatchObject({
      metadata: {
        annotations: {
          [OperatorAnnotations.templateLabelKeys]: 'fresh,kept',
          [OperatorAnnotations.revisionAssigned]: 'r2/2026-01-01T00:00:00.250Z',
        },
      },
      spec: {
        revision: 'r2',
        components: kubelet('v1.36.1').components,
        labels: { kept: 'y', fresh: 'z', old: null },
      },
    });
  });
  it('the assignment record reads back as the progress clock of that revision only (restart-safe)', () => {
    const at = new Date('2026-03-04T05:06:07.890Z');
    const value = revisionAssignedValue('r2', at);
    const told = (revision: string) =>
      machineStateFor(
        machine({ annotations: { [OperatorAnnotations.revisionAssigned]: value }, spec: { revision } }),
        readyNode(),
        kubelet('v1.36.1'),
        undefined,
      ).startedAt;
    expect(told('r2')).toBe(at.getTime());
    // Rolled back to r1 by another writer without a new record: no clock rather than a wrong one.
    expect(told('r1')).toBeUndefined();
  });
  it('cordon and uncordon set and clear the rollout markers, with the resourceVersion as precondition', () => {
    const m = { ...machine(), metadata: { name: 'm1', resourceVersion: '42' } } as Machine;
    expect(cordonPatch(m, 'r2', new Date('2026-01-01T00:00:00Z'))).toEqual({
      metadata: {
        resourceVersion: '42',
        annotations: {
          [OperatorAnnotations.cordonedByRollout]: 'r2',
          [OperatorAnnotations.drainStartedAt]: '2026-01-01T00:00:00Z',
          [OperatorAnnotations.drained]: null,
        },
      },
    });
    expect(uncordonPatch(m).metadata).toMatchObject({
      annotations: { [OperatorAnnotations.cordonedByRollout]: null, [OperatorAnnotations.drained]: null },
    });
  });
});
