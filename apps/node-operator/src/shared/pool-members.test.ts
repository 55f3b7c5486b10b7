import type { Machine, NodePool } from '@kok/api';
import { isNodePoolMember } from '@kok/rollout';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstPoolOf } from './pool-members.ts';
import { owningPool } from './pool-ownership.ts';

const names = ['a', 'b', 'c'];
const pool = fc.record({
  name: fc.constantFrom(...names),
  selector: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
});
const machine = fc.record({
  pool: fc.option(fc.constantFrom(...names, 'gone'), { nil: undefined }),
  tier: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
});

const nodePool = (p: { name: string; selector: string | undefined }): NodePool => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'NodePool',
  metadata: { name: p.name },
  spec: { template: {}, ...(p.selector ? { selector: { matchLabels: { tier: p.selector } } } : {}) },
});
const machineOf = (m: { pool: string | undefined; tier: string | undefined }): Machine => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', labels: m.tier ? { tier: m.tier } : {} },
  spec: m.pool ? { pool: m.pool } : {},
});

describe('firstPoolOf', () => {
  it('finds the pool that drives each machine (owningPool), with and without selectors', () => {
    fc.assert(
      fc.property(fc.array(pool, { maxLength: 5 }), fc.array(machine, { maxLength: 8 }), (ps, ms) => {
        const pools = ps.map(nodePool);
        const find = firstPoolOf(pools);
        for (const m of ms.map(machineOf)) {
          expect(find(m)).toBe(owningPool(m, pools));
          // One pool selecting it: that one, as before pools could overlap.
          const selecting = pools.filter((p) => isNodePoolMember(m, p));
          if (new Set(selecting.map((p) => p.metadata?.name)).size <= 1)
            expect(find(m)?.metadata?.name).toBe(selecting[0]?.metadata?.name);
        }
      }),
    );
  });
});
