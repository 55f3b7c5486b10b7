import {
  Annotations,
  findCondition,
  isConditionTrue,
  MachineConditions,
  poolRolloutSpec,
  REMEDIATION_ACTIONS,
} from '@kok/api';
import type { Machine, NodePool, RemediationPolicy } from '@kok/api';
import { matchesSelector, occupiesBudget, resolveMaxUnavailable } from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';
import { machineStateInPool } from '../shared/machine-observation.ts';
import { poolsSelecting } from '../shared/pool-ownership.ts';
import { OperatorAnnotations } from '../shared/resources.ts';
import { RemediationPolicyConditions, STORM_REASONS } from './remediation-plan.ts';
import type {
  ObservedCondition,
  PoolBudget,
  RemediationCandidate,
  RemediationInput,
  RemediationRecord,
} from './remediation-plan.ts';

const STATES: readonly string[] = ['InProgress', 'Exhausted', 'Succeeded'];

/** The record in the annotation; undefined when absent or unreadable (a person may have edited it). */
export function parseRemediationRecord(value: string | undefined): RemediationRecord | undefined {
  if (!value) return undefined;
  try {
    const raw = JSON.parse(value) as Record<string, unknown>;
    const startedAt = Date.parse(String(raw.startedAt));
    if (
      typeof raw.policy !== 'string' ||
      typeof raw.step !== 'number' ||
      !(REMEDIATION_ACTIONS as readonly string[]).includes(String(raw.action)) ||
      !STATES.includes(String(raw.state)) ||
      Number.isNaN(startedAt)
    )
      return undefined;
    return {
      policy: raw.policy,
      step: raw.step,
      action: raw.action as RemediationRecord['action'],
      startedAt,
      state: raw.state as RemediationRecord['state'],
      ...(raw.cordoned === true ? { cordoned: true } : {}),
      ...(raw.drainingBeforeReboot === true ? { drainingBeforeReboot: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The Machine's remediation record (annotation nodes.kok.dev/remediation), if it has a readable one. */
export function remediationRecordOf(machine: Machine): RemediationRecord | undefined {
  return parseRemediationRecord(machine.metadata?.annotations?.[OperatorAnnotations.remediation]);
}

/** The Node's conditions and the Machine's, each with the time it last changed status. */
export function observedConditions(machine: Machine, node: V1Node | undefined): ObservedCondition[] {
  const out: ObservedCondition[] = [];
  for (const c of node?.status?.conditions ?? []) {
    const since = Date.parse(String(c.lastTransitionTime ?? ''));
    if (!Number.isNaN(since)) out.push({ type: c.type, status: c.status, since });
  }
  for (const c of machine.status?.conditions ?? []) {
    const since = Date.parse(c.lastTransitionTime);
    if (!Number.isNaN(since)) out.push({ type: c.type, status: c.status, since });
  }
  return out;
}

/** What the remediation planner needs about one Machine; `occupiesBudget` comes from the rollout's view. */
export function remediationCandidateFor(
  machine: Machine,
  node: V1Node | undefined,
  pool: string | undefined,
  occupiesBudget: boolean,
): RemediationCandidate {
  const record = remediationRecordOf(machine);
  return {
    name: machine.metadata?.name ?? '',
    ...(pool === undefined ? {} : { pool }),
    conditions: observedConditions(machine, node),
    requested: machine.metadata?.annotations?.[Annotations.remediateMachine] !== undefined,
    ...(record ? { record } : {}),
    remediating: isConditionTrue(machine.status?.conditions, MachineConditions.Remediating),
    occupiesBudget,
  };
}

/**
 * remediationCandidateFor, computed again only when its inputs changed: cached objects are frozen and
 * replaced on every change, so a pass over 10,000 machines parses the conditions of the few that
 * changed since the last pass. One per reconciler; an entry goes with the Machine object it was
 * computed from.
 */
export class RemediationCandidates {
  readonly #memo = new WeakMap<
    Machine,
    { node: V1Node | undefined; pool: string | undefined; occupies: boolean; candidate: RemediationCandidate }
  >();

  of(
    machine: Machine,
    node: V1Node | undefined,
    pool: string | undefined,
    occupies: boolean,
  ): RemediationCandidate {
    const hit = this.#memo.get(machine);
    if (hit && hit.node === node && hit.pool === pool && hit.occupies === occupies) return hit.candidate;
    const candidate = remediationCandidateFor(machine, node, pool, occupies);
    if (Object.isFrozen(machine)) this.#memo.set(machine, { node, pool, occupies, candidate });
    return candidate;
  }
}

/** What one pass over a RemediationPolicy reads: the caches' contents at one instant. */
export interface RemediationFleet<M extends Machine> {
  machines: readonly M[];
  pools: readonly NodePool[];
  nodeOf: (name: string) => V1Node | undefined;
}

/** One pass's view of a policy, from one walk over the fleet. */
export interface RemediationObservation<M extends Machine> {
  /** The policy's machines by name (paused ones left out): what the plan's actions apply to. */
  machines: ReadonlyMap<string, M>;
  /** The pools those machines are in, whose budgets the plan draws on. */
  pools: ReadonlySet<string>;
  /** The planner's input. */
  input: RemediationInput;
}

/**
 * One walk over the fleet: the policy's machines as candidates, and the budget of each pool they are
 * in, counted from the same machine states as the rollout's: every machine of the pool takes a place
 * when occupiesBudget says so, selected by the policy or not. A machine that several of those pools
 * select counts in the one that comes first in the order that decides which pool drives a machine
 * (shared/pool-ownership.ts). The storm memory comes from the policy's StormActive condition.
 */
export function observeRemediation<M extends Machine>(
  policy: RemediationPolicy,
  fleet: RemediationFleet<M>,
  candidates: RemediationCandidates,
  clock: { now: number; cooldownMs: number },
): RemediationObservation<M> {
  const selectingPools = poolsSelecting(fleet.pools);
  const selected: M[] = [];
  const poolOf = new Map<string, string>();
  const pools = new Map<string, NodePool>();
  const inSomePool: { machine: M; selecting: NodePool[] }[] = [];
  for (const machine of fleet.machines) {
    const selecting = selectingPools(machine);
    if (selecting.length > 0) inSomePool.push({ machine, selecting });
    if (!matchesSelector(machine.metadata?.labels ?? {}, policy.spec.selector)) continue;
    if (machine.metadata?.annotations?.[Annotations.machinePaused] !== undefined) continue;
    selected.push(machine);
    const pool = selecting[0];
    const poolName = pool?.metadata?.name;
    if (pool && poolName) {
      poolOf.set(machine.metadata?.name ?? '', poolName);
      pools.set(poolName, pool);
    }
  }
  const members = new Map<string, number>([...pools.keys()].map((name) => [name, 0]));
  const used = new Map<string, number>([...pools.keys()].map((name) => [name, 0]));
  const occupying = new Set<string>();
  for (const { machine, selecting } of inSomePool) {
    const pool = selecting.find((p) => pools.has(p.metadata?.name ?? ''));
    const poolName = pool?.metadata?.name;
    if (!pool || !poolName) continue;
    members.set(poolName, (members.get(poolName) ?? 0) + 1);
    const name = machine.metadata?.name ?? '';
    if (occupiesBudget(machineStateInPool(machine, fleet.nodeOf(name), pool))) {
      used.set(poolName, (used.get(poolName) ?? 0) + 1);
      occupying.add(name);
    }
  }
  const budgets = new Map<string, PoolBudget>();
  for (const [name, pool] of pools)
    budgets.set(name, { limit: maxUnavailableOf(pool, members.get(name) ?? 0), used: used.get(name) ?? 0 });
  const storm = findCondition(policy.status?.conditions, RemediationPolicyConditions.StormActive);
  const stormEndedAt =
    storm?.status === 'False' && storm.reason !== STORM_REASONS.none
      ? Date.parse(storm.lastTransitionTime)
      : NaN;
  return {
    machines: new Map(selected.map((m) => [m.metadata?.name ?? '', m])),
    pools: new Set(pools.keys()),
    input: {
      policy: policy.metadata?.name ?? '',
      spec: policy.spec,
      machines: selected.map((m) => {
        const name = m.metadata?.name ?? '';
        return candidates.of(m, fleet.nodeOf(name), poolOf.get(name), occupying.has(name));
      }),
      budgets,
      stormWasActive: storm?.status === 'True',
      ...(Number.isNaN(stormEndedAt) ? {} : { stormEndedAt }),
      ...(storm ? { stormReason: storm.reason } : {}),
      cooldownMs: clock.cooldownMs,
      now: clock.now,
    },
  };
}

/** A pool whose maxUnavailable cannot be read lets nothing start (0), rather than failing the whole policy. */
function maxUnavailableOf(pool: NodePool, members: number): number {
  try {
    return resolveMaxUnavailable(poolRolloutSpec(pool).maxUnavailable, members);
  } catch {
    return 0;
  }
}
