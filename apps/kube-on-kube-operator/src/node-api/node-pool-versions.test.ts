import type { NodePoolObject, NodePoolStatus } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { ClusterObject } from '../resource-types.ts';
import {
  nodePoolsReport,
  nodePoolsStep,
  poolsReadWait,
  poolStillMoving,
  poolVersionPatch,
} from './node-pool-versions.ts';

const wanted = [
  { name: 'kubelet', version: 'v1.36.0' },
  { name: 'containerd', version: '2.1.0' },
];

function pool(
  name: string,
  components: { name: string; version: string }[],
  status?: NodePoolStatus,
  generation = 2,
): NodePoolObject {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name, generation },
    spec: { template: { components } },
    ...(status ? { status } : {}),
  } as NodePoolObject;
}

const rolledOut: NodePoolStatus = {
  observedGeneration: 2,
  updateRevision: 'r2',
  currentRevision: 'r2',
  machines: 3,
  updatedMachines: 3,
};
const atWanted = [
  { name: 'kubelet', version: 'v1.36.0' },
  { name: 'node-agent', version: '0.4.0' },
];

function cluster(nodePools: unknown, conditions: unknown[] = [], generation = 4): ClusterObject {
  return {
    metadata: { name: 'c', namespace: 'n', generation },
    spec: { version: 'v1.36.3', ...(nodePools ? { nodePools } : {}) },
    status: { conditions },
  } as unknown as ClusterObject;
}

describe('nodePoolsStep', () => {
  const installed = { installed: true, reason: 'Installed' };
  it.each([
    ['unset without spec.nodePools', cluster(undefined), true, installed, 'unset'],
    [
      'waits for the control plane first',
      cluster({ components: wanted }),
      false,
      installed,
      'waitControlPlane',
    ],
    [
      'waits for the node API',
      cluster({ components: wanted }),
      true,
      { installed: false, reason: 'NodeOperatorDisabled' },
      'waitNodeApi',
    ],
    ['reads the pools', cluster({ components: wanted }), true, installed, 'read'],
    [
      'does not read again once up to date at this generation',
      cluster({ components: wanted }, [{ type: 'NodePoolsUpToDate', status: 'True', observedGeneration: 4 }]),
      true,
      installed,
      'settled',
    ],
    [
      'reads again after the spec changed',
      cluster({ components: wanted }, [{ type: 'NodePoolsUpToDate', status: 'True', observedGeneration: 3 }]),
      true,
      installed,
      'read',
    ],
    [
      'reads again while not up to date',
      cluster({ components: wanted }, [
        { type: 'NodePoolsUpToDate', status: 'False', observedGeneration: 4 },
      ]),
      true,
      installed,
      'read',
    ],
  ])('%s', (_, c, ready, api, kind) => {
    expect(nodePoolsStep(c, ready, api).kind).toBe(kind);
  });

  it('says what the pools wait for', () => {
    expect(nodePoolsStep(cluster({ components: wanted }), false, { installed: true, reason: '' })).toEqual({
      kind: 'waitControlPlane',
      message: 'the NodePools wait for the control plane to be Available at v1.36.3',
    });
  });
});

describe('poolsReadWait', () => {
  it.each([
    ['never read', undefined, 4, 1_000, 0],
    ['read 5 s ago at this generation', { generation: 4, at: 0 }, 4, 5_000, 10_000],
    ['read 15 s ago', { generation: 4, at: 0 }, 4, 15_000, 0],
    ['read a moment ago at an older generation', { generation: 3, at: 0 }, 4, 1, 0],
  ])('%s', (_, last, generation, now, wait) => {
    expect(poolsReadWait(last, generation, now)).toBe(wait);
  });
});

describe('poolVersionPatch', () => {
  it('replaces only the versions of components the template has, each behind a test of its name', () => {
    const p = pool('a', [
      { name: 'node-agent', version: '0.4.0' },
      { name: 'kubelet', version: 'v1.35.2' },
      { name: 'containerd', version: '2.1.0' },
    ]);
    expect(poolVersionPatch(p, wanted)).toEqual([
      { op: 'test', path: '/spec/template/components/1/name', value: 'kubelet' },
      { op: 'replace', path: '/spec/template/components/1/version', value: 'v1.36.0' },
    ]);
  });

  it('never adds a component and leaves a pool at the versions alone', () => {
    expect(poolVersionPatch(pool('a', [{ name: 'node-agent', version: '0.4.0' }]), wanted)).toEqual([]);
    expect(poolVersionPatch(pool('a', atWanted), wanted)).toEqual([]);
    expect(poolVersionPatch(pool('a', []), wanted)).toEqual([]);
  });
});

describe('poolStillMoving', () => {
  it.each([
    ['up to date', pool('a', atWanted, rolledOut), undefined],
    [
      'template behind',
      pool('a', [{ name: 'kubelet', version: 'v1.35.0' }], rolledOut),
      'its template is not at these versions yet',
    ],
    ['no status yet', pool('a', atWanted), 'the node-operator has not taken up its template yet'],
    [
      'template not observed',
      pool('a', atWanted, rolledOut, 3),
      'the node-operator has not taken up its template yet',
    ],
    [
      'machines left',
      pool('a', atWanted, { ...rolledOut, currentRevision: 'r1', updatedMachines: 1 }),
      '1 of 3 machines updated',
    ],
    [
      'paused',
      pool('a', atWanted, {
        ...rolledOut,
        currentRevision: 'r1',
        conditions: [
          {
            type: 'Paused',
            status: 'True',
            reason: 'TooManyFailures',
            message: 'm-1 failed',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      }),
      'paused (TooManyFailures: m-1 failed)',
    ],
    [
      'failed',
      pool('a', atWanted, { ...rolledOut, currentRevision: 'r1', failedMachines: 1 }),
      'failed: 1 machines failed at r2',
    ],
  ])('%s', (_, p, why) => {
    expect(poolStillMoving(p, wanted)).toBe(why);
  });
});

describe('nodePoolsReport', () => {
  it('is up to date once every pool is', () => {
    expect(nodePoolsReport([pool('a', atWanted, rolledOut), pool('b', [], rolledOut)], wanted)).toEqual({
      pools: 2,
      upToDate: 2,
      condition: {
        status: true,
        reason: 'UpToDate',
        message:
          '2 of 2 NodePools run kubelet v1.36.0, containerd 2.1.0 where their templates have them, fully rolled out',
      },
    });
    expect(nodePoolsReport([], wanted).condition).toMatchObject({
      status: true,
      message: 'the biz-cluster has no NodePools',
    });
  });

  it('names the pools still moving and why; a paused one makes the reason NodePoolsStuck', () => {
    const moving = pool('b', atWanted, { ...rolledOut, currentRevision: 'r1', updatedMachines: 2 });
    expect(nodePoolsReport([pool('a', atWanted, rolledOut), moving], wanted)).toEqual({
      pools: 2,
      upToDate: 1,
      condition: {
        status: false,
        reason: 'RollingOut',
        message:
          '1 of 2 NodePools run kubelet v1.36.0, containerd 2.1.0, fully rolled out; still moving: b (2 of 3 machines updated)',
      },
    });
    const failed = pool('c', atWanted, { ...rolledOut, failedMachines: 2 });
    expect(nodePoolsReport([moving, failed], wanted).condition).toMatchObject({
      reason: 'NodePoolsStuck',
      message: expect.stringContaining('c (failed: 2 machines failed at r2)'),
    });
  });

  it('names five pools, then counts the rest', () => {
    const pools = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => pool(n, atWanted));
    expect(nodePoolsReport(pools, wanted).condition.message).toMatch(
      /e \(the node-operator [^)]*\) and 2 more$/,
    );
  });
});
