import { NodePoolConditions } from '@kok/api';
import type { ConditionUpdate, Machine, NodePool } from '@kok/api';
import { isNodePoolMember, listNames } from '@kok/rollout';

/**
 * Which pool drives a Machine that several pools select. Pure.
 *
 * 1. The pool its `spec.pool` names, when that pool selects it: the Machine
 *    itself says where it belongs (and the Node carries that name as a label).
 * 2. Else the oldest pool by creationTimestamp, then by name (timestamps have
 *    whole seconds). A newly created pool with a broad selector therefore
 *    never takes a Machine from a pool that already drives it, so creating
 *    one cannot start a drain.
 *
 * A pool being deleted claims nothing: it no longer drives its machines. The
 * answer depends only on the Machine and the set of pools selecting it, never
 * on the order the pools are listed in.
 */
export function owningPool<P extends NodePool>(machine: Machine, pools: readonly P[]): P | undefined {
  return poolsSelecting(pools)(machine)[0];
}

/**
 * `(machine) => every live pool that selects it, owner first`, without
 * walking every pool for each machine when few have a selector (the usual
 * case: only the pool that spec.pool names can select it then).
 */
export function poolsSelecting<P extends NodePool>(pools: readonly P[]): (machine: Machine) => P[] {
  const live = pools.filter((pool) => !pool.metadata?.deletionTimestamp);
  const bySelector = live.filter((pool) => pool.spec.selector);
  const byName = new Map<string, P>();
  for (const pool of live)
    if (!pool.spec.selector && pool.metadata?.name !== undefined) byName.set(pool.metadata.name, pool);
  return (machine) => {
    const named = machine.spec?.pool === undefined ? undefined : byName.get(machine.spec.pool);
    const selecting = bySelector.filter((pool) => isNodePoolMember(machine, pool));
    if (named) selecting.push(named);
    return selecting.sort(precedenceFor(machine));
  };
}

/** Orders pools by their claim on `machine`: spec.pool's pool, then the oldest, then by name. */
function precedenceFor(machine: Machine): (a: NodePool, b: NodePool) => number {
  const rank = (pool: NodePool): [number, number, string] => {
    const name = pool.metadata?.name ?? '';
    const created = Date.parse(pool.metadata?.creationTimestamp ?? '');
    return [name === machine.spec?.pool ? 0 : 1, Number.isNaN(created) ? Infinity : created, name];
  };
  return (a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    if (ra[0] !== rb[0]) return ra[0] - rb[0];
    if (ra[1] !== rb[1]) return ra[1] < rb[1] ? -1 : 1;
    return ra[2] < rb[2] ? -1 : ra[2] > rb[2] ? 1 : 0;
  };
}

/** One pool's share of the machines it selects. */
export interface PoolShare<M> {
  /** The machines this pool drives. */
  owned: M[];
  /** Machines it selects that another pool drives, with that pool's name. */
  lost: { machine: string; owner: string }[];
  /** Machines it drives that other pools select too, with their names. */
  contested: { machine: string; others: string[] }[];
}

/** Splits `pool`'s selected machines by owner (see owningPool). Pure. */
export function shareOf<M extends Machine, P extends NodePool>(
  pool: P,
  selected: readonly M[],
  pools: readonly P[],
): PoolShare<M> {
  const name = pool.metadata?.name;
  const selecting = poolsSelecting(pools);
  const share: PoolShare<M> = { owned: [], lost: [], contested: [] };
  for (const machine of selected) {
    const [owner, ...others] = selecting(machine);
    const machineName = machine.metadata?.name ?? '';
    if (owner === undefined || owner.metadata?.name === name) {
      share.owned.push(machine);
      if (others.length > 0)
        share.contested.push({ machine: machineName, others: others.map((p) => p.metadata?.name ?? '') });
    } else {
      share.lost.push({ machine: machineName, owner: owner.metadata?.name ?? '' });
    }
  }
  return share;
}

export const OVERLAP_REASONS = {
  /** Other pools drive some machines this pool selects: it leaves them alone. */
  lost: 'SelectorOverlap',
  /** This pool drives machines other pools select too; they leave them alone. */
  kept: 'OverlapKept',
  none: 'NoOverlap',
} as const;

/** The MachinesOverlap condition for a pool's share: True while it shares a machine with another pool. */
export function overlapCondition(share: PoolShare<unknown>): ConditionUpdate {
  const type = NodePoolConditions.MachinesOverlap;
  const { lost, contested } = share;
  if (lost.length === 0 && contested.length === 0)
    return { type, status: 'False', reason: OVERLAP_REASONS.none, message: '' };
  const parts: string[] = [];
  if (lost.length > 0) {
    const owners = [...new Set(lost.map((l) => l.owner))].sort();
    parts.push(
      `${lost.length} selected machines are driven by other pools and left alone here: ${listNames(
        lost.map((l) => l.machine).sort(),
      )} (by ${listNames(owners)})`,
    );
  }
  if (contested.length > 0) {
    const others = [...new Set(contested.flatMap((c) => c.others))].sort();
    parts.push(
      `${contested.length} machines driven here are also selected by ${listNames(others)}: ${listNames(
        contested.map((c) => c.machine).sort(),
      )}`,
    );
  }
  return {
    type,
    status: 'True',
    reason: lost.length > 0 ? OVERLAP_REASONS.lost : OVERLAP_REASONS.kept,
    message: parts.join('; '),
  };
}
