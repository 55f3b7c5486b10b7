import { describe, expect, it } from 'vitest';
import type { LabelSelector } from './label-selector.ts';
import { isNodePoolMember, type NodePoolView, type PoolMemberView } from './pool-membership.ts';

describe('isNodePoolMember', () => {
  const pool = (selector?: LabelSelector): NodePoolView => ({
    metadata: { name: 'workers' },
    spec: selector ? { selector } : {},
  });
  const member = (labels: Record<string, string>, poolName?: string): PoolMemberView => ({
    metadata: { labels },
    spec: poolName ? { pool: poolName } : {},
  });

  it.each([
    ['the selector matches', member({ role: 'worker' }), pool({ matchLabels: { role: 'worker' } }), true],
    [
      'a selector outranks spec.pool',
      member({}, 'workers'),
      pool({ matchLabels: { role: 'worker' } }),
      false,
    ],
    ['no selector: spec.pool names it', member({}, 'workers'), pool(), true],
    ['no selector: spec.pool names another', member({}, 'infra'), pool(), false],
    ['no selector and no spec.pool', member({}), pool(), false],
    [
      'an expression',
      member({ zone: 'b' }),
      pool({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }),
      true,
    ],
  ])('%s', (_, machine, nodePool, expected) => {
    expect(isNodePoolMember(machine, nodePool)).toBe(expected);
  });
});
