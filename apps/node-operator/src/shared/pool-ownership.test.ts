import { NodePoolConditions } from '@kok/api';
import type { Machine, NodePool } from '@kok/api';
import { isNodePoolMember } from '@kok/rollout';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlapCondition, owningPool, shareOf } from './pool-ownership.ts';

interface PoolShape {
  name: string;
  /** matchLabels tier=<selector>; none: the pool selects by spec.pool. */
  selector?: string;
  /** Seconds after the epoch. */
  created?: number;
  deleting?: boolean;
}

const nodePool = ({ name, selector, created, deleting }: PoolShape): NodePool => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'NodePool',
  metadata: {
    name,
    ...(created === undefined ? {} : { creationTimestamp: new Date(created * 1000).toISOString() }),
    ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { template: {}, ...(selector ? { selector: { matchLabels: { tier: selector } } } : {}) },
});

const machineOf = (m: { name?: string; pool?: string | undefined; tier?: string | undefined }): Machine => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: m.name ?? 'm', labels: m.tier ? { tier: m.tier } : {} },
  spec: m.pool ? { pool: m.pool } : {},
});

describe('owningPool', () => {
  it.each<[string, { pool?: string; tier?: string }, PoolShape[], string | undefined]>([
    ['no pool selects it', { tier: 'x' }, [{ name: 'a', selector: 'y', created: 1 }], undefined],
    ['one pool selects it', { tier: 'x' }, [{ name: 'a', selector: 'x', created: 1 }], 'a'],
    [
      'the oldest of two selectors',
      { tier: 'x' },
      [
        { name: 'young', selector: 'x', created: 20 },
        { name: 'old', selector: 'x', created: 10 },
      ],
      'old',
    ],
    [
      'the name breaks a tie of timestamps',
      { tier: 'x' },
      [
        { name: 'b', selector: 'x', created: 10 },
        { name: 'a', selector: 'x', created: 10 },
      ],
      'a',
    ],
    [
      'spec.pool naming a selector pool beats an older selector',
      { pool: 'young', tier: 'x' },
      [
        { name: 'old', selector: 'x', created: 10 },
        { name: 'young', selector: 'x', created: 20 },
      ],
      'young',
    ],
    [
      'spec.pool naming a pool without selector beats an older selector',
      { pool: 'named', tier: 'x' },
      [
        { name: 'old', selector: 'x', created: 10 },
        { name: 'named', created: 20 },
      ],
      'named',
    ],
    [
      'spec.pool naming a selector pool that does not select it gives no claim',
      { pool: 'young', tier: 'x' },
      [
        { name: 'young', selector: 'y', created: 5 },
        { name: 'old', selector: 'x', created: 10 },
      ],
      'old',
    ],
    [
      'a pool being deleted claims nothing',
      { tier: 'x' },
      [
        { name: 'old', selector: 'x', created: 10, deleting: true },
        { name: 'young', selector: 'x', created: 20 },
      ],
      'young',
    ],
    [
      'a pool without creationTimestamp counts as the newest',
      { tier: 'x' },
      [
        { name: 'a', selector: 'x' },
        { name: 'b', selector: 'x', created: 10 },
      ],
      'b',
    ],
  ])('%s', (_, machine, pools, owner) => {
    expect(owningPool(machineOf(machine), pools.map(nodePool))?.metadata?.name).toBe(owner);
  });
});

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const TIERS = ['x', 'y'];
const poolShape = (name: string) =>
  fc.record(
    {
      name: fc.constant(name),
      selector: fc.option(fc.constantFrom(...TIERS), { nil: undefined }),
      // The apiserver stamps every object; few distinct seconds, so ties happen.
      created: fc.integer({ min: 0, max: 3 }),
      deleting: fc.boolean(),
    },
    { requiredKeys: ['name', 'created'] },
  );
/** Pools with distinct names (as the apiserver has them), in any order. */
const poolsArb = fc
  .subarray(NAMES)
  .chain((names) => fc.tuple(...names.map(poolShape)))
  .map((shapes) => shapes.map(nodePool));
const machineArb = fc.record({
  pool: fc.option(fc.constantFrom(...NAMES, 'gone'), { nil: undefined }),
  tier: fc.option(fc.constantFrom(...TIERS), { nil: undefined }),
});
const name = (pool: NodePool | undefined): string | undefined => pool?.metadata?.name;

describe('owningPool properties', () => {
  it('drives each machine by at most one pool, one that selects it, and every pool agrees who', () => {
    fc.assert(
      fc.property(poolsArb, fc.array(machineArb, { maxLength: 6 }), (pools, shapes) => {
        const machines = shapes.map((m, i) => machineOf({ ...m, name: `m${i}` }));
        // A pool being deleted runs no pass (the reconciler stops at its deletionTimestamp).
        const live = pools.filter((pool) => !pool.metadata?.deletionTimestamp);
        const driven = live.flatMap((pool) =>
          shareOf(
            pool,
            machines.filter((m) => isNodePoolMember(m, pool)),
            pools,
          ).owned.map((m) => `${name(pool)}/${m.metadata?.name}`),
        );
        for (const machine of machines) {
          const owner = owningPool(machine, pools);
          const liveDrivers = driven.filter((d) => d.endsWith(`/${machine.metadata?.name}`));
          expect(liveDrivers.length).toBeLessThanOrEqual(1);
          if (owner) {
            expect(isNodePoolMember(machine, owner)).toBe(true);
            expect(liveDrivers).toEqual([`${name(owner)}/${machine.metadata?.name}`]);
          } else {
            expect(liveDrivers).toEqual([]);
          }
        }
      }),
    );
  });

  it('does not depend on the order the pools are listed in', () => {
    fc.assert(
      fc.property(
        poolsArb.chain((pools) =>
          fc.tuple(fc.constant(pools), fc.shuffledSubarray(pools, { minLength: pools.length })),
        ),
        machineArb,
        ([pools, shuffled], m) => {
          const machine = machineOf(m);
          expect(name(owningPool(machine, shuffled))).toBe(name(owningPool(machine, pools)));
        },
      ),
    );
  });

  it('never changes an owned machine’s owner when a newer pool, or one that does not select it, is added', () => {
    fc.assert(
      fc.property(
        poolsArb,
        machineArb,
        fc.record({
          selector: fc.option(fc.constantFrom(...TIERS), { nil: undefined }),
          name: fc.constantFrom('f', 'gone'),
        }),
        ([...pools], m, added) => {
          const machine = machineOf(m);
          const before = owningPool(machine, pools);
          // Created now: after every pool already there (the apiserver stamps it).
          const newer = nodePool({ ...added, created: 100 });
          const after = owningPool(machine, [...pools, newer]);
          const unrelated = !isNodePoolMember(machine, newer);
          // Only the pool the machine itself names may take it (see owningPool).
          if (before && (unrelated || machine.spec?.pool !== added.name))
            expect(name(after)).toBe(name(before));
        },
      ),
    );
  });
});

describe('shareOf and overlapCondition', () => {
  const old = nodePool({ name: 'old', selector: 'x', created: 10 });
  const young = nodePool({ name: 'young', selector: 'x', created: 20 });
  const machines = ['m1', 'm2', 'm3'].map((n) => machineOf({ name: n, tier: 'x' }));
  const own = machineOf({ name: 'own', pool: 'young', tier: 'x' });

  it('the younger pool loses the shared machines, keeps the one naming it, and says so', () => {
    const share = shareOf(young, [...machines, own], [old, young]);
    expect(share.owned.map((m) => m.metadata?.name)).toEqual(['own']);
    expect(share.lost).toEqual(['m1', 'm2', 'm3'].map((machine) => ({ machine, owner: 'old' })));
    expect(overlapCondition(share)).toEqual({
      type: NodePoolConditions.MachinesOverlap,
      status: 'True',
      reason: 'SelectorOverlap',
      message:
        '3 selected machines are driven by other pools and left alone here: m1, m2, m3 (by old); 1 machines driven here are also selected by old: own',
    });
  });

  it('the older pool keeps them and is told who else selects them', () => {
    const share = shareOf(old, machines, [old, young]);
    expect(share.owned).toHaveLength(3);
    expect(overlapCondition(share)).toMatchObject({
      status: 'True',
      reason: 'OverlapKept',
      message: '3 machines driven here are also selected by young: m1, m2, m3',
    });
  });

  it('a pool alone has no overlap', () => {
    expect(overlapCondition(shareOf(old, machines, [old]))).toMatchObject({
      status: 'False',
      reason: 'NoOverlap',
    });
  });
});
