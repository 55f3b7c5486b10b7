import type { NodePool } from '@kok/api';
import { planRollout } from '@kok/rollout';
import type { MachineState } from '@kok/rollout';
import { describe, expect, it } from 'vitest';
import { poolEvents, poolStatusFor } from './pool-status.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

/** `count` machines told r2 that failed there, on a pool whose last good revision is r1. */
function rollbackPlanFor(count: number) {
  const machines: MachineState[] = Array.from({ length: count }, (_, i) => ({
    name: `worker-${i + 1}`,
    labels: {},
    currentRevision: 'r1',
    desiredRevision: 'r2',
    failedRevision: 'r2',
    ready: true,
    cordoned: false,
    needsDisruption: false,
  }));
  return planRollout({
    pool: 'workers',
    spec: { maxUnavailable: '100%', autoRollback: true },
    targetRevision: 'r2',
    lastGoodRevision: 'r1',
    machines,
    now: NOW.getTime(),
  });
}

const pool: NodePool = {
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'NodePool',
  metadata: { name: 'workers', generation: 1 },
  spec: { template: {} },
  status: { currentRevision: 'r1', updateRevision: 'r2' },
} as NodePool;

describe('poolEvents', () => {
  it.each([
    [2, 'sending worker-1, worker-2 back to revision r1'],
    [1_000, 'sending worker-1, worker-2, worker-3, worker-4, worker-5 and 995 more back to revision r1'],
  ])('a rollback of %i machines names a few of them and counts the rest', (count, note) => {
    const plan = rollbackPlanFor(count);
    expect(plan.rollback?.machines).toHaveLength(count);
    const after = poolStatusFor({ pool, plan, now: NOW });
    const rollingBack = poolEvents(pool.status, after, plan, []).filter((e) => e.reason === 'RollingBack');
    expect(rollingBack).toEqual([{ type: 'Warning', reason: 'RollingBack', note }]);
  });
});

describe('MachinesOverlap', () => {
  const plan = planRollout({
    pool: 'workers',
    spec: {},
    targetRevision: 'r2',
    machines: [],
    now: NOW.getTime(),
  });
  const lost = {
    type: 'MachinesOverlap',
    status: 'True',
    reason: 'SelectorOverlap',
    message: '1 selected machines are driven by other pools and left alone here: m1 (by old)',
  } as const;
  const overlapEvents = (before: NodePool['status'], after: NonNullable<NodePool['status']>) =>
    poolEvents(before, after, plan, []).filter((e) => e.reason === 'SelectorOverlap');

  it('a pool that loses machines gets one Warning, not one per pass, and the condition clears with the overlap', () => {
    const overlapping = poolStatusFor({ pool, plan, overlap: lost, now: NOW });
    expect(overlapEvents(pool.status, overlapping)).toEqual([
      { type: 'Warning', reason: 'SelectorOverlap', note: lost.message },
    ]);
    const again = poolStatusFor({ pool: { ...pool, status: overlapping }, plan, overlap: lost, now: NOW });
    expect(overlapEvents(overlapping, again)).toEqual([]);
    const cleared = poolStatusFor({ pool: { ...pool, status: again }, plan, now: NOW });
    expect(cleared.conditions?.find((c) => c.type === 'MachinesOverlap')).toMatchObject({
      status: 'False',
      reason: 'NoOverlap',
    });
    expect(overlapEvents(again, cleared)).toEqual([]);
  });
});

describe('a catalog hold', () => {
  const held = planRollout({
    pool: 'workers',
    spec: { paused: true },
    targetRevision: 'r2',
    machines: [],
    now: NOW.getTime(),
  });
  const hold = (version: string) => ({
    reason: 'VersionNotFound',
    message: `NodePool "workers" holds revision r2, its template names what the Component catalog does not offer: kubelet ${version}: …`,
  });
  const warnings = (before: NodePool['status'], after: NonNullable<NodePool['status']>) =>
    poolEvents(before, after, held, []).filter((e) => e.type === 'Warning');

  it('stops the pool with its reason on Paused, RollingOut and Degraded, and warns once per change', () => {
    const first = poolStatusFor({ pool, plan: held, blockedBy: hold('v1.36.9'), now: NOW });
    const reasons = Object.fromEntries((first.conditions ?? []).map((c) => [c.type, [c.status, c.reason]]));
    expect(reasons).toMatchObject({
      Paused: ['True', 'VersionNotFound'],
      RollingOut: ['False', 'VersionNotFound'],
      Degraded: ['True', 'VersionNotFound'],
    });
    expect(first.conditions?.find((c) => c.type === 'Paused')?.message).toBe(hold('v1.36.9').message);
    expect(warnings(pool.status, first)).toEqual([
      { type: 'Warning', reason: 'VersionNotFound', note: hold('v1.36.9').message },
    ]);

    const again = poolStatusFor({
      pool: { ...pool, status: first },
      plan: held,
      blockedBy: hold('v1.36.9'),
      now: NOW,
    });
    expect(warnings(first, again)).toEqual([]);
    // Another typo, same reason: a new problem, told once more.
    const other = poolStatusFor({
      pool: { ...pool, status: again },
      plan: held,
      blockedBy: hold('v1.36.8'),
      now: NOW,
    });
    expect(warnings(again, other)).toEqual([
      { type: 'Warning', reason: 'VersionNotFound', note: hold('v1.36.8').message },
    ]);
  });
});
