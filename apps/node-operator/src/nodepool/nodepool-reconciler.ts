/**
 * The NodePool reconciler: observe the pool and its machines, plan with @kok/rollout, apply the plan's
 * cordons, drains, assignments and status. About 400 lines, kept whole: one pass reads top to bottom.
 */
import { Annotations, poolRolloutSpec, templateRevision } from '@kok/api';
import type { Component, NodePool, NodePoolTemplate } from '@kok/api';
import { canonicalJson, forEachLimit, PatchType } from '@kok/reconcile';
import type { EventRecorder, Informer, KubeClient, Reconciler } from '@kok/reconcile';
import {
  occupiesBudget,
  parsePausedAfterWave,
  pausedAfterWaveValue,
  plannerMemory,
  planRollout,
  poolRolloutMemory,
} from '@kok/rollout';
import type { MachineState, PoolRolloutMemory, RolloutPlan, RolloutSpec, WaitReason } from '@kok/rollout';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { catalogHold, catalogHoldApplies, templateCatalogProblems } from './catalog-check.ts';
import type { CatalogProblem, PoolHold } from './catalog-check.ts';
import type { Drainer } from '../shared/drainer.ts';
import {
  atResourceVersion,
  assignmentPatch,
  cordonPatch,
  drainedPatch,
  rolloutStatusFor,
  uncordonPatch,
  waitingForOf,
} from '../shared/machine-patches.ts';
import { machineStateInPool } from '../shared/machine-observation.ts';
import { machineWaitReasons, poolHoldReason } from './machine-wait-reasons.ts';
import { syncNode } from '../shared/node-writer.ts';
import type { PoolLocks } from '../shared/pool-locks.ts';
import { poolMembers } from '../shared/pool-members.ts';
import { DRAIN_RETRY_MS, soonest, untilWake } from '../shared/requeue.ts';
import { OVERLAP_REASONS, overlapCondition, shareOf } from '../shared/pool-ownership.ts';
import type { PoolShare } from '../shared/pool-ownership.ts';
import type { PoolMetrics } from './pool-metrics.ts';
import { poolEvents, poolStatusFor } from './pool-status.ts';
import { machineType, nodePoolType, OperatorAnnotations } from '../shared/resources.ts';
import type { RevisionStore } from './revision-store.ts';
import { kubeletSkewProblem } from './version-skew.ts';
import type { MachineObject, NodePoolObject } from '@kok/api';

export interface NodePoolDeps {
  client: KubeClient;
  /** Writes the RolloutFailed condition as a field manager of its own, so server-side apply keeps it apart. */
  conditionClient: KubeClient;
  pools: Informer<NodePoolObject>;
  machines: Informer<MachineObject>;
  nodes: Informer<V1Node>;
  revisions: RevisionStore;
  drainer: Drainer;
  events: EventRecorder;
  /** The apiserver's version (GET /version gitVersion), for the version-skew guard. */
  apiServerVersion: () => Promise<string>;
  metrics: PoolMetrics;
  now: () => Date;
  /** Machine writes in flight at once. Default 16. */
  writeConcurrency?: number;
  /** Shared with the remediation controller, so both count the pool's budget from one view. Default: none. */
  locks?: PoolLocks;
  /** The Component catalog templates are checked against (catalog-check.ts). Default: none, nothing is checked. */
  components?: Informer<Component & KubernetesObject>;
}

/** Everything one reconcile of a pool reads, from the caches. */
interface ObservedPool {
  pool: NodePoolObject;
  name: string;
  target: string;
  template: NodePoolTemplate;
  /** The machines this pool drives: those it selects, less those another pool drives (pool-ownership.ts). */
  members: MachineObject[];
  share: PoolShare<MachineObject>;
  states: MachineState[];
  memory: PoolRolloutMemory;
  skewProblem: string | undefined;
  /** The template names what the catalog does not offer: no machine may be told the target. */
  catalogHold: PoolHold | undefined;
  catalogProblems: readonly CatalogProblem[];
}

/**
 * NodePool: observe (caches) → plan (libs/rollout, pure) → apply (idempotent
 * patches with resourceVersion preconditions) → status and Events. Every bit
 * of rollout state is in the API (Machine spec and annotations, NodePool
 * status and one annotation), so a restart continues where it was.
 */
export function nodePoolReconciler(deps: NodePoolDeps): Reconciler {
  const reconcile: Reconciler = async (request, ctx) => {
    const observed = await observe(deps, request.name);
    if (!observed) {
      deps.metrics.forget(request.name);
      return;
    }
    const plan = planFor(observed, deps.now());
    ctx.log.debug({ plan: summary(plan) }, 'planned');
    const drainPending = await applyPlan(deps, observed, plan, ctx.log, ctx.signal);
    deps.metrics.set(observed.name, disruptedAfter(observed.states, plan), plan.maxUnavailable);
    return soonest(untilWake(plan.wakeAt, deps.now().getTime()), drainPending ? DRAIN_RETRY_MS : undefined);
  };
  const locks = deps.locks;
  return locks
    ? (request, ctx) => locks.withPools([request.name], async () => reconcile(request, ctx))
    : reconcile;
}

async function observe(deps: NodePoolDeps, name: string): Promise<ObservedPool | undefined> {
  const pool = deps.pools.getByName(undefined, name);
  if (!pool || pool.metadata?.deletionTimestamp) return undefined;
  const template = pool.spec.template;
  const target = templateRevision(template);
  const share = shareOf(pool, poolMembers(deps.machines, pool), deps.pools.list());
  const members = share.owned;
  const states = members.map((m) =>
    machineStateInPool(m, deps.nodes.getByName(undefined, m.metadata?.name ?? ''), pool),
  );
  const skewProblem = kubeletSkewProblem(template, await deps.apiServerVersion());
  const catalog = deps.components;
  const problems = catalog
    ? templateCatalogProblems(template, (component) => catalog.getByName(undefined, component))
    : [];
  return {
    pool,
    name,
    target,
    template,
    members,
    share,
    states,
    memory: poolRolloutMemory(
      {
        record: pool.status?.rollout,
        pausedAfterWave: pool.metadata?.annotations?.[OperatorAnnotations.pausedAfterWave],
        paused: pool.spec.paused,
      },
      target,
    ),
    skewProblem,
    catalogHold: catalogHold(name, target, problems),
    catalogProblems: problems,
  };
}

/**
 * The planner's input from what was observed; a version-skew block holds the pool like spec.paused, and
 * so does a catalog hold wherever it applies (catalog-check.ts: not to a stop or a rollback).
 */
export function planFor(observed: ObservedPool, now: Date): RolloutPlan {
  const spec: RolloutSpec = poolRolloutSpec(observed.pool);
  if (observed.skewProblem) spec.paused = true;
  const plan = planWith(observed, spec, now);
  if (!observed.catalogHold || !catalogHoldApplies(plan)) return plan;
  return planWith(observed, { ...spec, paused: true }, now);
}

/** What holds the pool besides its own spec, as its Paused condition says: the version-skew guard first. */
function holdOf(observed: ObservedPool, plan: RolloutPlan): PoolHold | undefined {
  if (observed.skewProblem)
    return {
      reason: 'VersionSkew',
      message: `NodePool ${JSON.stringify(observed.name)} held by the version-skew guard: ${observed.skewProblem}`,
    };
  return observed.catalogHold && catalogHoldApplies(plan) ? observed.catalogHold : undefined;
}

function planWith(observed: ObservedPool, spec: RolloutSpec, now: Date): RolloutPlan {
  return planRollout({
    pool: observed.name,
    spec,
    targetRevision: observed.target,
    ...(observed.pool.status?.currentRevision
      ? { lastGoodRevision: observed.pool.status.currentRevision }
      : {}),
    machines: observed.states,
    now: now.getTime(),
    ...plannerMemory(observed.memory),
  });
}

/** Machines taking a place in the budget once this plan's starts are counted. */
export function disruptedAfter(states: readonly MachineState[], plan: RolloutPlan): number {
  const names = new Set(states.filter(occupiesBudget).map((s) => s.name));
  for (const name of plan.cordon) names.add(name);
  for (const a of plan.assign) names.add(a.machine);
  return names.size;
}

/** Applies the plan; resolves true when a drain is still waiting for pods to leave. */
async function applyPlan(
  deps: NodePoolDeps,
  observed: ObservedPool,
  plan: RolloutPlan,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  const { client } = deps;
  const { pool, name: poolName, target } = observed;
  const now = deps.now();
  const byName = new Map(observed.members.map((m) => [m.metadata?.name ?? '', m]));
  // A person's nodes.kok.dev/paused on a Machine: it counts in the budget, but the rollout does not touch it.
  const touchable = (name: string): boolean =>
    byName.get(name)?.metadata?.annotations?.[Annotations.machinePaused] === undefined;
  const writtenMachines = new Map<string, string>();
  const writtenNodes = new Map<string, string>();
  const concurrency = deps.writeConcurrency ?? 16;
  const remember = (machine: MachineObject): void => {
    byName.set(machine.metadata?.name ?? '', machine);
    writtenMachines.set(machine.metadata?.name ?? '', machine.metadata?.resourceVersion ?? '');
  };
  const patchMachine = async (name: string, patch: Record<string, unknown>): Promise<MachineObject> => {
    const written = await client.patch(machineType, { name }, PatchType.merge, patch);
    remember(written);
    return written;
  };
  const followNode = async (machine: MachineObject): Promise<void> => {
    const name = machine.metadata?.name ?? '';
    const node = deps.nodes.getByName(undefined, name);
    if (!node) return;
    const written = await syncNode(client, machine, node);
    if (written !== node) writtenNodes.set(name, written.metadata?.resourceVersion ?? '');
  };

  await deps.revisions.ensure(pool, target, observed.template, revisionsInUse(observed));

  // Budget first: give places back, then take new ones.
  await forEachLimit(plan.uncordon.filter(touchable), concurrency, async (name) => {
    const machine = byName.get(name) as MachineObject;
    const written = await patchMachine(name, uncordonPatch(machine));
    await followNode(written);
    await deps.drainer.setDrainedCondition(written, undefined, now);
  });
  await forEachLimit(plan.cordon.filter(touchable), concurrency, async (name) => {
    const written = await patchMachine(name, cordonPatch(byName.get(name) as MachineObject, target, now));
    await followNode(written);
  });
  let drainPending = false;
  const drainBlocks = new Map<string, WaitReason>();
  await forEachLimit(plan.drain.filter(touchable), concurrency, async (name) => {
    const machine = byName.get(name) as MachineObject;
    // The drain's Drained condition changes the resourceVersion the drained patch is guarded by.
    const outcome = await deps.drainer.drain(machine, pool.spec.drain, now, { thenPatched: true });
    // The next pass plans from a cache that shows the condition, or its guarded write would fail.
    if (outcome.resourceVersion !== undefined) writtenMachines.set(name, outcome.resourceVersion);
    if (outcome.drained)
      await patchMachine(name, drainedPatch(atResourceVersion(machine, outcome.resourceVersion), target));
    else drainPending = true;
    if (outcome.blocked) drainBlocks.set(name, { kind: 'DrainBlocked', ...outcome.blocked });
  });
  const templates = new Map<string, NodePoolTemplate | undefined>([[target, observed.template]]);
  for (const { revision } of plan.assign)
    if (!templates.has(revision)) templates.set(revision, await deps.revisions.template(poolName, revision));
  await forEachLimit(
    plan.assign.filter((a) => touchable(a.machine)),
    concurrency,
    async ({ machine: name, revision }) => {
      const template = templates.get(revision);
      if (!template) {
        log.error({ machine: name, revision }, 'revision template is not stored; cannot assign it');
        return;
      }
      await patchMachine(name, assignmentPatch(byName.get(name) as MachineObject, revision, template, now));
    },
  );

  // What the plan holds against a machine goes on the Machine too (phase Failed, kubectl kok nodepool status,
  // kubectl kok why machine): one write per machine, only when its verdict or its reason to wait changed.
  const failures = new Map(plan.failed.map((failure) => [failure.machine, failure]));
  const waitReason = machineWaitReasons({
    target,
    waiting: plan.waiting,
    drainBlocks,
    hold: poolHoldReason(
      observed.skewProblem,
      observed.catalogHold && catalogHoldApplies(plan) ? observed.catalogProblems : [],
    ),
  });
  await forEachLimit(observed.members, concurrency, async (member) => {
    const name = member.metadata?.name ?? '';
    const current = byName.get(name) ?? member;
    const waitingFor = waitingForOf(current.status?.waitingFor, waitReason(current), poolName, now);
    const status = rolloutStatusFor(current, failures.get(name), waitingFor, now);
    if (!status) return;
    remember(
      await deps.conditionClient.applyStatus(machineType, {
        apiVersion: machineType.apiVersion,
        kind: machineType.kind,
        metadata: { name },
        status,
      } as MachineObject),
    );
  });

  await applyPoolState(deps, observed, plan, now, log);

  // Plan again only once the caches show what was written: the budget is counted from the cache, so planning
  // before it shows this pass's writes could start more machines than the budget allows.
  await deps.machines.waitFor(writtenMachines, { signal });
  await deps.nodes.waitFor(writtenNodes, { signal });
  return drainPending;
}

/** Pool-level writes: the pause after a pauseAfter wave, its clean-up after a resume, status and Events. */
async function applyPoolState(
  deps: NodePoolDeps,
  observed: ObservedPool,
  plan: RolloutPlan,
  now: Date,
  log: Logger,
): Promise<void> {
  const { client } = deps;
  const { pool, name, target, memory } = observed;
  const resumedAfterWave = memory.resumedAfterWave;
  const written = new Map<string, string>();

  const hold = holdOf(observed, plan);
  const status = poolStatusFor({
    pool,
    plan,
    ...(resumedAfterWave === undefined ? {} : { resumedAfterWave }),
    ...(hold ? { blockedBy: hold } : {}),
    overlap: overlapCondition(observed.share),
    now,
  });
  if (canonicalJson(status) !== canonicalJson(pool.status ?? {})) {
    const updated = await client.mergePatchStatus(
      nodePoolType,
      { name },
      {
        metadata: { resourceVersion: pool.metadata?.resourceVersion },
        status: statusPatch(pool.status, status),
      },
    );
    written.set(name, updated.metadata?.resourceVersion ?? '');
    for (const event of poolEvents(
      pool.status,
      status,
      plan,
      (pool.spec.rollout?.waves ?? []).map((w) => w.name),
    )) {
      if (event.reason === OVERLAP_REASONS.lost)
        log.warn({ lost: observed.share.lost.length }, `machines left to other pools: ${event.note}`);
      await deps.events.record(pool, event.type, event.reason, 'Rollout', event.note);
    }
  }

  const annotation = pool.metadata?.annotations?.[OperatorAnnotations.pausedAfterWave];
  const pausedAfter = parsePausedAfterWave(annotation);
  if (plan.pause?.reason === 'AwaitingResume' && !observed.skewProblem && pool.spec.paused !== true) {
    // One write holds both, so "annotation present, spec.paused false" can only mean a person resumed.
    const updated = await client.patch(nodePoolType, { name }, PatchType.merge, {
      metadata: {
        resourceVersion: written.has(name) ? undefined : pool.metadata?.resourceVersion,
        annotations: {
          [OperatorAnnotations.pausedAfterWave]: pausedAfterWaveValue(target, plan.currentWave),
        },
      },
      spec: { paused: true },
    });
    written.set(name, updated.metadata?.resourceVersion ?? '');
  } else if (annotation !== undefined && (pausedAfter?.target !== target || memory.resumed)) {
    // The resume is in status now (written above), or the annotation is about an older revision.
    const updated = await client.patch(nodePoolType, { name }, PatchType.merge, {
      metadata: { annotations: { [OperatorAnnotations.pausedAfterWave]: null } },
    });
    written.set(name, updated.metadata?.resourceVersion ?? '');
  }
  await deps.pools.waitFor(written);
}

/** A merge patch that makes `previous` equal `next` (fields gone from next are nulled). */
function statusPatch(
  previous: NodePool['status'],
  next: NonNullable<NodePool['status']>,
): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  if (previous?.rollout && next.rollout) {
    const rollout: Record<string, unknown> = { ...next.rollout };
    for (const key of Object.keys(previous.rollout)) if (!(key in next.rollout)) rollout[key] = null;
    patch.rollout = rollout;
  }
  return patch;
}

/** Revisions that must survive history pruning: the pool's current and update ones, and any machine's. */
function revisionsInUse(observed: ObservedPool): Set<string> {
  const inUse = new Set<string>([observed.target]);
  if (observed.pool.status?.currentRevision) inUse.add(observed.pool.status.currentRevision);
  for (const state of observed.states) {
    if (state.desiredRevision) inUse.add(state.desiredRevision);
    if (state.currentRevision) inUse.add(state.currentRevision);
  }
  return inUse;
}

function summary(plan: RolloutPlan): Record<string, unknown> {
  return {
    assign: plan.assign.length,
    cordon: plan.cordon,
    drain: plan.drain,
    uncordon: plan.uncordon,
    pause: plan.pause?.reason,
    wave: plan.currentWave,
    complete: plan.complete,
  };
}
