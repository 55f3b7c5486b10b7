import { matchesSelector, type LabelSelector } from './label-selector.ts';

/** What membership reads of a Machine (a Machine of @kok/api is one). */
export interface PoolMemberView {
  metadata?: { labels?: Readonly<Record<string, string>> };
  spec?: { pool?: string };
}

/** What membership reads of a NodePool (a NodePool of @kok/api is one). */
export interface NodePoolView {
  metadata?: { name?: string };
  spec: { selector?: LabelSelector };
}

/** A Machine belongs to a pool by the pool's selector, or else by `spec.pool` naming it. */
export function isNodePoolMember(machine: PoolMemberView, pool: NodePoolView): boolean {
  const selector = pool.spec.selector;
  if (selector) return matchesSelector(machine.metadata?.labels ?? {}, selector);
  return machine.spec?.pool !== undefined && machine.spec.pool === pool.metadata?.name;
}
