import type { Machine, NodePool } from '@kok/api';
import { matchesSelector } from '@kok/rollout';

/** A Machine belongs to a pool by the pool's selector, or else by `spec.pool` naming it. */
export function isPoolMember(machine: Machine, pool: NodePool): boolean {
  const selector = pool.spec.selector;
  if (selector) return matchesSelector(machine.metadata?.labels ?? {}, selector);
  return machine.spec?.pool !== undefined && machine.spec.pool === pool.metadata?.name;
}
