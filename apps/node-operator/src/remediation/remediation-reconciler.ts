import { Annotations, findCondition, MachineConditions, poolRolloutSpec, setCondition } from '@kok/api';
import type { Condition, ConditionUpdate, Machine, NodePool, RemediationPolicy } from '@kok/api';
import { PatchType } from '@kok/reconcile';
import type { EventRecorder, Informer, KubeClient, Reconciler } from '@kok/reconcile';
import { matchesSelector, occupiesBudget, resolveMaxUnavailable } from '@kok/rollout';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { waitForCache } from '../shared/cache-sync.ts';
import type { Drainer } from '../shared/drainer.ts';
import { machineStateInPool } from '../shared/machine-observation.ts';
import type { PoolLocks } from '../shared/pool-locks.ts';
import {
  rebootAfterDrainPatch,
  remediationActionPatch,
  remediationCandidateFor,
  remediationExhaustedPatch,
  remediationFinishPatch,
  remediationReleasePatch,
} from './remediation-observation.ts';
import type { RemediationMetrics } from './remediation-metrics.ts';
import { planRemediation } from './remediation-plan.ts';
import type { PoolBudget, RemediationCandidate, RemediationPlan } from './remediation-plan.ts';
import { firstPoolOf } from '../shared/pool-members.ts';
import { DEFAULT_PASS_INTERVAL_MS } from '../shared/pass-interval.ts';
import { DRAIN_RETRY_MS, soonest, untilWake } from '../shared/requeue.ts';
import { machineType, OperatorAnnotations, remediationPolicyType } from '../shared/resources.ts';
import { stableJson } from '../shared/stable-json.ts';

type MachineObject = Machine & KubernetesObject;
type PoolObject = NodePool & KubernetesObject;
type PolicyObject = RemediationPolicy & KubernetesObject;

/** Conditions of RemediationPolicy.status. */
export const RemediationPolicyConditions = {
  /** False while the circuit breaker (maxUnhealthy) or its cooldown stops remediation. */
  RemediationAllowed: 'RemediationAllowed',
  /** True while more machines are unhealthy than maxUnhealthy. */
  StormActive: 'StormActive',
} as const;

/** After a storm, remediation stays stopped this long unless the operator is told otherwise. */
export const DEFAULT_STORM_COOLDOWN_MS = 5 * 60_000;

/** StormActive reasons; CoolingDown and StormEnded say a storm happened (its end starts the cooldown). */
const STORM_REASONS = {
  active: 'TooManyUnhealthy',
  cooling: 'CoolingDown',
  ended: 'StormEnded',
  none: 'NoStorm',
};

export interface RemediationDeps {
  client: KubeClient;
  /** Its own field manager: it server-side applies only the Remediating condition of Machine.status. */
  conditionClient: KubeClient;
  policies: Informer<PolicyObject>;
  pools: Informer<PoolObject>;
  machines: Informer<MachineObject>;
  nodes: Informer<V1Node>;
  /** Shared with the NodePool controller: one view of each pool's budget at a time. */
  locks: PoolLocks;
  drainer: Drainer;
  events: EventRecorder;
  now: () => Date;
  /** Default DEFAULT_STORM_COOLDOWN_MS (5 min). */
  stormCooldownMs?: number;
  /** A policy is planned at most once per this many ms (Machine events arrive in bursts). Default 1000. */
  minPassIntervalMs?: number;
  /** Counts the actions issued. Default: not counted. */
  metrics?: RemediationMetrics;
}

/**
 * RemediationPolicy: observe (caches) → plan (remediation-plan.ts, pure) →
 * apply (Machine patches with resourceVersion, the Remediating condition,
 * Events) → status as counts. Runs holding the locks of every pool its
 * machines are in, and waits for its writes to show in the caches before
 * letting go, so the rollout plans from a view that includes them.
 */
export function remediationReconciler(deps: RemediationDeps): Reconciler {
  const nextPassAt = new Map<string, number>();
  const minInterval = deps.minPassIntervalMs ?? DEFAULT_PASS_INTERVAL_MS;
  return async (request, ctx) => {
    const policy = deps.policies.getByName(undefined, request.name);
    if (!policy || policy.metadata?.deletionTimestamp) {
      nextPassAt.delete(request.name);
      await releaseMachinesOf(deps, request.name);
      return;
    }
    // Every Machine event maps to the policy; at 10,000 machines one pass a second is plenty.
    const wait = (nextPassAt.get(request.name) ?? 0) - Date.now();
    if (wait > 0) return { requeueAfter: wait };
    let planningMs = 0;
    const timed = <T>(work: () => T): T => {
      const started = performance.now();
      try {
        return work();
      } finally {
        planningMs += performance.now() - started;
      }
    };
    const poolNames = new Set(timed(() => observeFleet(deps, policy)).poolOf.values());
    const result = await deps.locks.withPools(poolNames, async () => {
      const current = deps.policies.getByName(undefined, request.name);
      if (!current) return undefined;
      const { plan, machines } = timed(() => observeAndPlan(deps, current));
      const drainPending = await applyRemediation(deps, current, plan, machines, ctx.log);
      await writePolicyStatus(deps, current, plan);
      return soonest(untilWake(plan.wakeAt, deps.now().getTime()), drainPending ? DRAIN_RETRY_MS : undefined);
    });
    // Observing and planning hold the event loop; on a fleet (or a CPU share) where they are slow, passes
    // space out so that they take at most a tenth of it and the Machine controller keeps the rest.
    nextPassAt.set(request.name, Date.now() + Math.max(minInterval, PLANNING_SHARE_FACTOR * planningMs));
    return result;
  };
}

/** A pass that planned for t ms is followed by at least PLANNING_SHARE_FACTOR × t ms without one. */
const PLANNING_SHARE_FACTOR = 9;

interface FleetView {
  /** The policy's machines (paused ones left out). */
  selected: MachineObject[];
  /** Pool name of each selected machine that is in a pool. */
  poolOf: Map<string, string>;
  pools: Map<string, PoolObject>;
}

/** One walk over the machine cache: who is selected, and in which pool. */
function observeFleet(deps: RemediationDeps, policy: PolicyObject): FleetView {
  const poolOf = firstPoolOf(deps.pools.list());
  const view: FleetView = { selected: [], poolOf: new Map(), pools: new Map() };
  for (const machine of deps.machines.list()) {
    if (!matchesSelector(machine.metadata?.labels ?? {}, policy.spec.selector)) continue;
    if (machine.metadata?.annotations?.[Annotations.machinePaused] !== undefined) continue;
    view.selected.push(machine);
    const pool = poolOf(machine);
    const poolName = pool?.metadata?.name;
    if (pool && poolName) {
      view.poolOf.set(machine.metadata?.name ?? '', poolName);
      view.pools.set(poolName, pool);
    }
  }
  return view;
}

/** The policy's machines and each pool's budget, counted exactly as the rollout counts it. */
function observeAndPlan(
  deps: RemediationDeps,
  policy: PolicyObject,
): { plan: RemediationPlan; machines: Map<string, MachineObject> } {
  const { selected, poolOf, pools } = observeFleet(deps, policy);
  const budgets = new Map<string, PoolBudget>();
  const occupying = new Set<string>();
  const members = new Map<string, number>([...pools.keys()].map((name) => [name, 0]));
  const used = new Map<string, number>([...pools.keys()].map((name) => [name, 0]));
  const poolOfMachine = firstPoolOf([...pools.values()]);
  for (const machine of deps.machines.list()) {
    const pool = poolOfMachine(machine);
    const poolName = pool?.metadata?.name;
    if (!pool || !poolName) continue;
    members.set(poolName, (members.get(poolName) ?? 0) + 1);
    const name = machine.metadata?.name ?? '';
    const state = machineStateInPool(machine, deps.nodes.getByName(undefined, name), pool);
    if (occupiesBudget(state)) {
      used.set(poolName, (used.get(poolName) ?? 0) + 1);
      occupying.add(name);
    }
  }
  for (const [name, pool] of pools)
    budgets.set(name, {
      limit: maxUnavailableOf(pool, members.get(name) ?? 0),
      used: used.get(name) ?? 0,
    });
  const candidates: RemediationCandidate[] = selected.map((m) => {
    const name = m.metadata?.name ?? '';
    return candidateFor(m, deps.nodes.getByName(undefined, name), poolOf.get(name), occupying.has(name));
  });
  const storm = findCondition(policy.status?.conditions, RemediationPolicyConditions.StormActive);
  const stormEndedAt =
    storm?.status === 'False' && storm.reason !== STORM_REASONS.none
      ? Date.parse(storm.lastTransitionTime)
      : NaN;
  const plan = planRemediation({
    policy: policy.metadata?.name ?? '',
    spec: policy.spec,
    machines: candidates,
    budgets,
    stormWasActive: storm?.status === 'True',
    ...(Number.isNaN(stormEndedAt) ? {} : { stormEndedAt }),
    cooldownMs: deps.stormCooldownMs ?? DEFAULT_STORM_COOLDOWN_MS,
    now: deps.now().getTime(),
  });
  return { plan, machines: new Map(selected.map((m) => [m.metadata?.name ?? '', m])) };
}

/**
 * remediationCandidateFor, computed again only when its inputs changed: cached
 * objects are frozen and replaced on every change, so a pass over 10,000
 * machines parses the conditions of the few that changed since the last pass.
 */
const candidateMemo = new WeakMap<
  MachineObject,
  { node: V1Node | undefined; pool: string | undefined; occupies: boolean; candidate: RemediationCandidate }
>();

function candidateFor(
  machine: MachineObject,
  node: V1Node | undefined,
  pool: string | undefined,
  occupies: boolean,
): RemediationCandidate {
  const hit = candidateMemo.get(machine);
  if (hit && hit.node === node && hit.pool === pool && hit.occupies === occupies) return hit.candidate;
  const candidate = remediationCandidateFor(machine, node, pool, occupies);
  if (Object.isFrozen(machine)) candidateMemo.set(machine, { node, pool, occupies, candidate });
  return candidate;
}

/** A pool whose maxUnavailable cannot be read lets nothing start (0), rather than failing the whole policy. */
function maxUnavailableOf(pool: PoolObject, members: number): number {
  try {
    return resolveMaxUnavailable(poolRolloutSpec(pool).maxUnavailable, members);
  } catch {
    return 0;
  }
}

/** Applies the plan; resolves true when a remediation Drain still waits for pods to leave. */
async function applyRemediation(
  deps: RemediationDeps,
  policy: PolicyObject,
  plan: RemediationPlan,
  machines: ReadonlyMap<string, MachineObject>,
  log: Logger,
): Promise<boolean> {
  const now = deps.now();
  const policyName = policy.metadata?.name ?? '';
  const written = new Map<string, string>();
  const patch = async (name: string, body: Record<string, unknown>): Promise<MachineObject> => {
    const updated = await deps.client.patch(machineType, { name }, PatchType.merge, body);
    written.set(name, updated.metadata?.resourceVersion ?? '');
    return updated;
  };

  for (const act of plan.act) {
    const machine = machines.get(act.machine);
    if (!machine) continue;
    const total = policy.spec.actions.length;
    const what = `${act.action.type}${act.action.component ? ` ${act.action.component}` : ''}`;
    // The budget place is taken first (Remediating counts as unavailable), then the action is issued.
    await setRemediating(
      deps,
      machine,
      { status: 'True', reason: act.action.type, message: `${what}: ${act.reason}` },
      now,
      written,
    );
    const previous = remediationCandidateFor(machine, undefined, undefined, false).record;
    await patch(act.machine, remediationActionPatch(machine, policyName, act, previous, now));
    await deps.events.record(
      machine,
      act.step === 0 ? 'Normal' : 'Warning',
      act.action.type,
      'Remediate',
      `RemediationPolicy ${policyName} step ${act.step + 1}/${total} ${what}: ${act.reason}`,
    );
    deps.metrics?.actions.inc({ policy: policyName, action: act.action.type });
    log.info({ machine: act.machine, step: act.step, action: act.action.type }, 'remediation action');
  }
  for (const { machine: name, reason } of plan.exhaust) {
    const machine = machines.get(name);
    const record = machine && remediationCandidateFor(machine, undefined, undefined, false).record;
    if (!machine || !record) continue;
    await patch(name, remediationExhaustedPatch(machine, record));
    await setRemediating(
      deps,
      machine,
      { status: 'True', reason: 'Exhausted', message: reason },
      now,
      written,
    );
    await deps.events.record(
      machine,
      'Warning',
      'RemediationExhausted',
      'Remediate',
      `RemediationPolicy ${policyName}: ${reason}; a person must look at it`,
    );
  }
  for (const name of plan.finish) {
    const machine = machines.get(name);
    if (!machine) continue;
    const record = remediationCandidateFor(machine, undefined, undefined, false).record;
    await patch(name, remediationFinishPatch(machine, record));
    await setRemediating(deps, machine, { status: 'False', reason: 'Healthy', message: '' }, now, written);
    await deps.events.record(
      machine,
      'Normal',
      'Remediated',
      'Remediate',
      `RemediationPolicy ${policyName}: healthy again${record ? ` after ${record.action} (step ${record.step + 1})` : ''}`,
    );
  }

  // A Drain action evicts on every pass until the node is empty (PDBs decide, as for the rollout); so does
  // a Reboot, which is issued only once the node is empty.
  let drainPending = false;
  for (const [name, machine] of machines) {
    if (machine.metadata?.annotations?.[OperatorAnnotations.remediation] === undefined) continue;
    const record = remediationCandidateFor(machine, undefined, undefined, false).record;
    if (record?.policy !== policyName || record.state !== 'InProgress') continue;
    if (record.action !== 'Drain' && !(record.action === 'Reboot' && record.drainingBeforeReboot)) continue;
    if (plan.act.some((a) => a.machine === name) || plan.finish.includes(name)) continue;
    const outcome = await deps.drainer.drain(machine, undefined, now);
    if (!outcome.drained) {
      drainPending = true;
      continue;
    }
    if (record.action !== 'Reboot') continue;
    await patch(name, rebootAfterDrainPatch(machine, record, now));
    await deps.events.record(
      machine,
      'Normal',
      'RebootIssued',
      'Remediate',
      `RemediationPolicy ${policyName} step ${record.step + 1}: drained, rebooting`,
    );
    log.info({ machine: name, step: record.step }, 'remediation reboot issued after drain');
  }

  await waitForCache(deps.machines, written, 10_000);
  return drainPending;
}

/** A deleted policy's machines leave remediation; otherwise they would hold budget places for ever. */
async function releaseMachinesOf(deps: RemediationDeps, policyName: string): Promise<void> {
  const now = deps.now();
  for (const machine of deps.machines.list()) {
    if (machine.metadata?.annotations?.[OperatorAnnotations.remediation] === undefined) continue;
    const record = remediationCandidateFor(machine, undefined, undefined, false).record;
    if (record?.policy !== policyName || record.state === 'Succeeded') continue;
    const name = machine.metadata?.name ?? '';
    await deps.client.patch(machineType, { name }, PatchType.merge, remediationReleasePatch(machine, record));
    const message = `RemediationPolicy ${policyName} was deleted during ${record.action} (step ${record.step + 1}); remediation stopped`;
    await setRemediating(
      deps,
      machine,
      { status: 'False', reason: 'PolicyDeleted', message },
      now,
      new Map(),
    );
    await deps.events.record(machine, 'Normal', 'RemediationStopped', 'Remediate', message);
  }
}

/** Server-side applies the Remediating condition only (its own field manager), when it would change. */
async function setRemediating(
  deps: RemediationDeps,
  machine: MachineObject,
  update: Omit<ConditionUpdate, 'type'>,
  now: Date,
  written: Map<string, string>,
): Promise<void> {
  const full: ConditionUpdate = { type: MachineConditions.Remediating, ...update };
  const existing = findCondition(machine.status?.conditions, full.type);
  if (
    existing &&
    existing.status === full.status &&
    existing.reason === full.reason &&
    existing.message === (full.message ?? '')
  )
    return;
  const condition = findCondition(
    setCondition(machine.status?.conditions, full, now),
    full.type,
  ) as Condition;
  const updated = await deps.conditionClient.applyStatus(machineType, {
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name: machine.metadata?.name ?? '' },
    status: { conditions: [condition] },
  } as MachineObject);
  written.set(machine.metadata?.name ?? '', updated.metadata?.resourceVersion ?? '');
}

/** Status as counts and two conditions, written only when it changes; Events when a storm starts or ends. */
async function writePolicyStatus(
  deps: RemediationDeps,
  policy: PolicyObject,
  plan: RemediationPlan,
): Promise<void> {
  const now = deps.now();
  const previous = policy.status ?? {};
  const previousStorm = findCondition(previous.conditions, RemediationPolicyConditions.StormActive);
  const stormReason = plan.storm.active
    ? STORM_REASONS.active
    : plan.storm.coolingDown
      ? STORM_REASONS.cooling
      : previousStorm && previousStorm.reason !== STORM_REASONS.none
        ? STORM_REASONS.ended
        : STORM_REASONS.none;
  let conditions = setCondition(
    previous.conditions,
    {
      type: RemediationPolicyConditions.StormActive,
      status: plan.storm.active ? 'True' : 'False',
      reason: stormReason,
      message: plan.storm.message,
    },
    now,
  );
  const stopped = plan.storm.active || plan.storm.coolingDown;
  conditions = setCondition(
    conditions,
    {
      type: RemediationPolicyConditions.RemediationAllowed,
      status: stopped ? 'False' : 'True',
      reason: stopped ? (plan.storm.active ? 'StormActive' : 'CoolingDown') : 'WithinLimits',
      message: plan.storm.message,
    },
    now,
  );
  const status: NonNullable<RemediationPolicy['status']> = {
    ...(policy.metadata?.generation === undefined ? {} : { observedGeneration: policy.metadata.generation }),
    expectedMachines: plan.counts.expectedMachines,
    currentHealthy: plan.counts.currentHealthy,
    remediationsAllowed: stopped ? 0 : plan.counts.remediationsAllowed,
    inFlightRemediations: plan.counts.inFlightRemediations,
    conditions,
  };
  if (stableJson(status) === stableJson(previous)) return;
  const name = policy.metadata?.name ?? '';
  const updated = await deps.client.mergePatchStatus(
    remediationPolicyType,
    { name },
    {
      metadata: { resourceVersion: policy.metadata?.resourceVersion },
      status,
    },
  );
  if (plan.storm.active && previousStorm?.status !== 'True')
    await deps.events.record(policy, 'Warning', 'StormActive', 'Remediate', plan.storm.message);
  if (!plan.storm.active && previousStorm?.status === 'True')
    await deps.events.record(policy, 'Normal', 'StormEnded', 'Remediate', plan.storm.message);
  await waitForCache(deps.policies, new Map([[name, updated.metadata?.resourceVersion ?? '']]));
}
