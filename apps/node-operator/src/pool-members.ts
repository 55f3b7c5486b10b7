import type { Machine, NodePool } from '@kok/api';
import { Indexes } from '@kok/reconcile';
import type { IndexFunc, Informer } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isPoolMember } from './rollout-input.ts';

/** Index of the Machine cache: `spec.pool`. */
export const POOL_INDEX = 'spec.pool';

export const machineIndexers: Record<string, IndexFunc<Machine & KubernetesObject>> = {
  [POOL_INDEX]: (machine) => (machine.spec?.pool ? [machine.spec.pool] : []),
};

/**
 * The pool's machines from the cache, without walking the whole fleet: by the
 * `spec.pool` index when the pool has no selector, else the machines carrying
 * the selector's first matchLabels pair (label index), filtered by the whole
 * selector. Only a selector of expressions alone walks every machine. The
 * cache must have been built with `machineIndexers`.
 */
export function poolMembers<M extends Machine & KubernetesObject>(
  machines: Informer<M>,
  pool: NodePool,
): M[] {
  const selector = pool.spec.selector;
  if (!selector) return pool.metadata?.name ? machines.byIndex(POOL_INDEX, pool.metadata.name) : [];
  const first = Object.entries(selector.matchLabels ?? {})[0];
  const candidates = first ? machines.byIndex(Indexes.label, `${first[0]}=${first[1]}`) : machines.list();
  return candidates.filter((machine) => isPoolMember(machine, pool));
}

/**
 * `(machine) => pools.find((pool) => isPoolMember(machine, pool))`, without
 * walking the pools for each machine when none has a selector (the usual
 * case): then a machine's pool is the one its spec.pool names.
 */
export function firstPoolOf<P extends NodePool>(pools: readonly P[]): (machine: Machine) => P | undefined {
  if (pools.some((pool) => pool.spec.selector))
    return (machine) => pools.find((p) => isPoolMember(machine, p));
  const byName = new Map<string, P>();
  for (const pool of pools) {
    const name = pool.metadata?.name;
    if (name !== undefined && !byName.has(name)) byName.set(name, pool);
  }
  return (machine) => (machine.spec?.pool === undefined ? undefined : byName.get(machine.spec.pool));
}
