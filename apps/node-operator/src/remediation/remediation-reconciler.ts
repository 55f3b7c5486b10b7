import { findCondition, MachineConditions, setCondition } from '@kok/api';
import type { Condition, ConditionUpdate, RemediationPolicy } from '@kok/api';
import { canonicalJson, PatchType } from '@kok/reconcile';
import type { EventRecorder, Informer, KubeClient, Reconciler } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Drainer } from '../shared/drainer.ts';
import { atResourceVersion } from '../shared/machine-patches.ts';
import { DEFAULT_PASS_INTERVAL_MS } from '../shared/pass-interval.ts';
import type { PoolLocks } from '../shared/pool-locks.ts';
import { DRAIN_RETRY_MS, soonest, untilWake } from '../shared/requeue.ts';
import { machineType, OperatorAnnotations, remediationPolicyType } from '../shared/resources.ts';
import type { RemediationMetrics } from './remediation-metrics.ts';
import { observeRemediation, RemediationCandidates, remediationRecordOf } from './remediation-observation.ts';
import type { RemediationObservation } from './remediation-observation.ts';
import {
  rebootAfterDrainPatch,
  remediationActionPatch,
  remediationExhaustedPatch,
  remediationFinishPatch,
  remediationReleasePatch,
} from './remediation-patches.ts';
import { planRemediation, RemediationPolicyConditions } from './remediation-plan.ts';
import type { RemediationPlan } from './remediation-plan.ts';
import type { MachineObject, NodePoolObject, RemediationPolicyObject } from '@kok/api';

/** After a storm, remediation stays stopped this long unless the operator is told otherwise. */
export const DEFAULT_STORM_COOLDOWN_MS = 5 * 60_000;

export interface RemediationDeps {
  client: KubeClient;
  /** Its own field manager: it server-side applies only the Remediating condition of Machine.status. */
  conditionClient: KubeClient;
  policies: Informer<RemediationPolicyObject>;
  pools: Informer<NodePoolObject>;
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
 * RemediationPolicy: observe (caches, remediation-observation.ts) → plan (remediation-plan.ts, pure) →
 * apply (Machine patches with resourceVersion, the Remediating condition, Events) → status as counts
 * and the conditions the plan computed. Runs holding the locks of every pool its machines are in, and
 * waits for its writes to show in the caches before letting go, so the rollout plans from a view that
 * includes them.
 */
export function remediationReconciler(deps: RemediationDeps): Reconciler {
  const nextPassAt = new Map<string, number>();
  // The pools each policy's machines were in at its last pass: the locks its next pass takes before it
  // observes, so that one observation, made holding them, serves the whole pass.
  const poolsAtLastPass = new Map<string, ReadonlySet<string>>();
  const candidates = new RemediationCandidates();
  const minInterval = deps.minPassIntervalMs ?? DEFAULT_PASS_INTERVAL_MS;
  return async (request, ctx) => {
    const policy = deps.policies.getByName(undefined, request.name);
    if (!policy || policy.metadata?.deletionTimestamp) {
      nextPassAt.delete(request.name);
      poolsAtLastPass.delete(request.name);
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
    let locked = poolsAtLastPass.get(request.name) ?? new Set<string>();
    for (;;) {
      const pass = await deps.locks.withPools(locked, async (): Promise<Pass> => {
        const current = deps.policies.getByName(undefined, request.name);
        if (!current) return { done: undefined, pools: new Set<string>() };
        const observed = timed(() => observe(deps, current, candidates));
        // Its machines are in a pool whose lock this pass does not hold (its first pass, or a machine
        // moved): what was observed may miss the rollout's writes there, so observe again holding it.
        if ([...observed.pools].some((pool) => !locked.has(pool))) return { relock: observed.pools };
        const plan = timed(() => planRemediation(observed.input));
        const drainPending = await applyRemediation(deps, current, plan, observed.machines, ctx.log);
        await writePolicyStatus(deps, current, plan);
        const done = soonest(
          untilWake(plan.wakeAt, deps.now().getTime()),
          drainPending ? DRAIN_RETRY_MS : undefined,
        );
        return { done, pools: observed.pools };
      });
      if ('relock' in pass) {
        locked = new Set([...locked, ...pass.relock]);
        continue;
      }
      poolsAtLastPass.set(request.name, pass.pools);
      // Observing and planning hold the event loop; on a fleet (or a CPU share) where they are slow, passes
      // space out so that they take at most a tenth of it and the Machine controller keeps the rest.
      nextPassAt.set(request.name, Date.now() + Math.max(minInterval, PLANNING_SHARE_FACTOR * planningMs));
      return pass.done;
    }
  };
}

/** A pass's end: done (what to return, and the pools it held), or to be observed again holding more pools. */
type Pass =
  | { done: { requeueAfter: number } | undefined; pools: ReadonlySet<string> }
  | { relock: ReadonlySet<string> };

/** A pass that planned for t ms is followed by at least PLANNING_SHARE_FACTOR × t ms without one. */
const PLANNING_SHARE_FACTOR = 9;

/** The policy's machines and each pool's budget, from the caches as they are now. */
function observe(
  deps: RemediationDeps,
  policy: RemediationPolicyObject,
  candidates: RemediationCandidates,
): RemediationObservation<MachineObject> {
  const fleet = {
    machines: deps.machines.list(),
    pools: deps.pools.list(),
    nodeOf: (name: string) => deps.nodes.getByName(undefined, name),
  };
  const clock = { now: deps.now().getTime(), cooldownMs: deps.stormCooldownMs ?? DEFAULT_STORM_COOLDOWN_MS };
  return observeRemediation(policy, fleet, candidates, clock);
}

/** Applies the plan; resolves true when a remediation Drain still waits for pods to leave. */
async function applyRemediation(
  deps: RemediationDeps,
  policy: RemediationPolicyObject,
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
    // The condition's write changes the Machine's resourceVersion, which the action's patch is guarded
    // by: that write is guarded by the observed one, so the action goes out at the version it made.
    await setRemediating(
      deps,
      machine,
      { status: 'True', reason: act.action.type, message: `${what}: ${act.reason}` },
      now,
      written,
      { onObservedVersion: true },
    );
    const previous = remediationRecordOf(machine);
    const current = atResourceVersion(machine, written.get(act.machine));
    await patch(act.machine, remediationActionPatch(current, policyName, act, previous, now));
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
    const record = machine && remediationRecordOf(machine);
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
    const record = remediationRecordOf(machine);
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
    const record = remediationRecordOf(machine);
    if (record?.policy !== policyName || record.state !== 'InProgress') continue;
    if (record.action !== 'Drain' && !(record.action === 'Reboot' && record.drainingBeforeReboot)) continue;
    if (plan.act.some((a) => a.machine === name) || plan.finish.includes(name)) continue;
    const outcome = await deps.drainer.drain(machine, undefined, now, { thenPatched: true });
    if (outcome.resourceVersion !== undefined) written.set(name, outcome.resourceVersion);
    if (!outcome.drained) {
      drainPending = true;
      continue;
    }
    if (record.action !== 'Reboot') continue;
    await patch(
      name,
      rebootAfterDrainPatch(atResourceVersion(machine, outcome.resourceVersion), record, now),
    );
    await deps.events.record(
      machine,
      'Normal',
      'RebootIssued',
      'Remediate',
      `RemediationPolicy ${policyName} step ${record.step + 1}: drained, rebooting`,
    );
    log.info({ machine: name, step: record.step }, 'remediation reboot issued after drain');
  }

  await deps.machines.waitFor(written);
  return drainPending;
}

/** A deleted policy's machines leave remediation; otherwise they would hold budget places for ever. */
async function releaseMachinesOf(deps: RemediationDeps, policyName: string): Promise<void> {
  const now = deps.now();
  for (const machine of deps.machines.list()) {
    if (machine.metadata?.annotations?.[OperatorAnnotations.remediation] === undefined) continue;
    const record = remediationRecordOf(machine);
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

/**
 * Server-side applies the Remediating condition only (its own field manager), when it would change;
 * `onObservedVersion`: only if the Machine is still as observed (a write that a guarded patch follows).
 */
async function setRemediating(
  deps: RemediationDeps,
  machine: MachineObject,
  update: Omit<ConditionUpdate, 'type'>,
  now: Date,
  written: Map<string, string>,
  { onObservedVersion = false }: { onObservedVersion?: boolean } = {},
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
    metadata: {
      name: machine.metadata?.name ?? '',
      ...(onObservedVersion ? { resourceVersion: machine.metadata?.resourceVersion } : {}),
    },
    status: { conditions: [condition] },
  } as MachineObject);
  written.set(machine.metadata?.name ?? '', updated.metadata?.resourceVersion ?? '');
}

/** Status as the plan says, written only when it changes; Events when a storm starts or ends. */
async function writePolicyStatus(
  deps: RemediationDeps,
  policy: RemediationPolicyObject,
  plan: RemediationPlan,
): Promise<void> {
  const now = deps.now();
  const previous = policy.status ?? {};
  const conditions = plan.conditions.reduce<Condition[]>(
    (list, condition) => setCondition(list, condition, now),
    previous.conditions ?? [],
  );
  const status: NonNullable<RemediationPolicy['status']> = {
    ...(policy.metadata?.generation === undefined ? {} : { observedGeneration: policy.metadata.generation }),
    ...plan.status,
    conditions,
  };
  if (canonicalJson(status) === canonicalJson(previous)) return;
  const name = policy.metadata?.name ?? '';
  const updated = await deps.client.mergePatchStatus(
    remediationPolicyType,
    { name },
    {
      metadata: { resourceVersion: policy.metadata?.resourceVersion },
      status,
    },
  );
  const stormWasActive =
    findCondition(previous.conditions, RemediationPolicyConditions.StormActive)?.status === 'True';
  if (plan.storm.active && !stormWasActive)
    await deps.events.record(policy, 'Warning', 'StormActive', 'Remediate', plan.storm.message);
  if (!plan.storm.active && stormWasActive)
    await deps.events.record(policy, 'Normal', 'StormEnded', 'Remediate', plan.storm.message);
  await deps.policies.waitFor(new Map([[name, updated.metadata?.resourceVersion ?? '']]));
}
