import type { Machine, NodePool } from '@kok/api';
import { isNodePoolMember } from '@kok/rollout';
import { Indexes } from '@kok/reconcile';
import type { IndexFunc, Informer, Predicate } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';
import { poolsSelecting } from './pool-ownership.ts';

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
  return candidates.filter((machine) => isNodePoolMember(machine, pool));
}

/**
 * `(machine) => the pool that drives it` (owningPool), for many machines:
 * every controller that counts a pool's machines counts the same ones.
 */
export function firstPoolOf<P extends NodePool>(pools: readonly P[]): (machine: Machine) => P | undefined {
  const selecting = poolsSelecting(pools);
  return (machine) => selecting(machine)[0];
}

/**
 * The other pools that select a machine `pool` selects: whether they drive it
 * depends on `pool`, so they plan again when its selector changes, or it
 * comes or goes. Called with the old and the new pool of an update, this
 * covers the machines it selected and those it selects now.
 */
export function poolsSharingMachinesWith<P extends NodePool & KubernetesObject>(
  machines: Informer<Machine & KubernetesObject>,
  pools: readonly P[],
  pool: P,
): string[] {
  const selecting = poolsSelecting(pools);
  const names = new Set<string>();
  for (const machine of poolMembers(machines, pool))
    for (const other of selecting(machine)) names.add(other.metadata?.name ?? '');
  names.delete(pool.metadata?.name ?? '');
  return [...names].sort();
}

/** For NodePool → NodePool: what changes which machines a pool selects or claims. */
export const poolClaimChanged: Predicate<NodePool & KubernetesObject> = {
  update: (oldPool, newPool) =>
    JSON.stringify(oldPool.spec.selector) !== JSON.stringify(newPool.spec.selector) ||
    oldPool.metadata?.deletionTimestamp !== newPool.metadata?.deletionTimestamp,
};
