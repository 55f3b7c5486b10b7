import { findCondition, MachineConditions, metaTime, revisionAssignedValue, setCondition } from '@kok/api';
import type { Condition, Machine, MachineStatus, NodePool, NodePoolTemplate } from '@kok/api';
import { describeWaitReason } from '@kok/rollout';
import type { FailedMachine, WaitReason } from '@kok/rollout';
import { owningPool } from './pool-ownership.ts';
import { OperatorAnnotations } from './resources.ts';

/**
 * Merge patches the rollout writes to Machines. Each carries the
 * resourceVersion the decision was made on, so a Machine that changed since
 * fails the patch (409) and the pool is planned again on fresh state.
 */
type MergePatch = Record<string, unknown>;

/**
 * `machine` as of `resourceVersion`, when the pass itself wrote it since observing it (a condition write
 * guarded by the observed version), so the patch that follows is guarded by the version that write made.
 */
export function atResourceVersion<T extends Machine>(machine: T, resourceVersion: string | undefined): T {
  return resourceVersion === undefined
    ? machine
    : { ...machine, metadata: { ...machine.metadata, resourceVersion } };
}

function metadataWith(
  machine: Machine,
  annotations?: Record<string, string | null>,
): Record<string, unknown> {
  return {
    resourceVersion: machine.metadata?.resourceVersion,
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * Tells a machine to run `revision`: spec.revision with the revision's
 * components, files and taints, and its labels merged into spec.labels (labels
 * the pool set before and no longer has are removed; other labels stay). The
 * same write records when, so the progress deadline survives a restart.
 */
export function assignmentPatch(
  machine: Machine,
  revision: string,
  template: NodePoolTemplate,
  now: Date,
): MergePatch {
  const templateLabels = template.labels ?? {};
  const previousKeys = parseKeys(machine.metadata?.annotations?.[OperatorAnnotations.templateLabelKeys]);
  const labels: Record<string, string | null> = { ...templateLabels };
  for (const key of previousKeys) if (!(key in templateLabels)) labels[key] = null;
  const keys = Object.keys(templateLabels).sort();
  return {
    metadata: metadataWith(machine, {
      [OperatorAnnotations.templateLabelKeys]: keys.length > 0 ? keys.join(',') : null,
      [OperatorAnnotations.revisionAssigned]: revisionAssignedValue(revision, now),
    }),
    spec: {
      revision,
      components: template.components ?? null,
      files: template.files ?? null,
      taints: template.taints ?? null,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    },
  };
}

/** Marks the rollout's cordon (the Node follows) and starts the drain clock. */
export function cordonPatch(machine: Machine, revision: string, now: Date): MergePatch {
  return {
    metadata: metadataWith(machine, {
      [OperatorAnnotations.cordonedByRollout]: revision,
      [OperatorAnnotations.drainStartedAt]: metaTime(now),
      [OperatorAnnotations.drained]: null,
    }),
  };
}

/** Every pod that had to leave is gone. */
export function drainedPatch(machine: Machine, revision: string): MergePatch {
  return { metadata: metadataWith(machine, { [OperatorAnnotations.drained]: revision }) };
}

/** Lifts the rollout's cordon (the Node follows unless spec.unschedulable keeps it cordoned). */
export function uncordonPatch(machine: Machine): MergePatch {
  return {
    metadata: metadataWith(machine, {
      [OperatorAnnotations.cordonedByRollout]: null,
      [OperatorAnnotations.drainStartedAt]: null,
      [OperatorAnnotations.drained]: null,
    }),
  };
}

function parseKeys(value: string | undefined): string[] {
  return value ? value.split(',').filter((key) => key.length > 0) : [];
}

/**
 * The status to server-side apply (under the rollout's own field manager) so
 * the Machine shows what the rollout holds against it: condition RolloutFailed
 * True while the plan counts it failed for a cause the agent did not report
 * (`failure.reason`, e.g. ProgressDeadlineExceeded), and no such condition
 * otherwise. Undefined when the Machine already shows exactly that, so an
 * unchanged verdict costs no write. A failure the agent reports is on the
 * Machine already and is not repeated.
 */
export function rolloutFailedStatus(
  machine: Machine,
  failure: FailedMachine | undefined,
  now: Date,
): { conditions: Condition[] } | undefined {
  const existing = findCondition(machine.status?.conditions, MachineConditions.RolloutFailed);
  if (failure?.reason === undefined) return existing ? { conditions: [] } : undefined;
  const update = {
    type: MachineConditions.RolloutFailed,
    status: 'True' as const,
    reason: failure.reason,
    message: failure.message ?? `failed at revision ${failure.revision}`,
  };
  if (
    existing?.status === update.status &&
    existing.reason === update.reason &&
    existing.message === update.message
  )
    return undefined;
  const condition = findCondition(setCondition(machine.status?.conditions, update, now), update.type);
  return { conditions: [condition as Condition] };
}

export type WaitingFor = NonNullable<MachineStatus['waitingFor']>;

/**
 * `status.waitingFor` for a machine of `pool` held by `reason` (none when nothing holds it). `since`
 * stays while the reason does. A full budget is stored without the names of its holders: they change
 * with every machine that finishes, and rewriting every waiting Machine each time would cost a write
 * per waiting machine per step on a large pool; the pool's RollingOut condition names them.
 */
export function waitingForOf(
  previous: WaitingFor | undefined,
  reason: WaitReason | undefined,
  pool: string,
  now: Date,
): WaitingFor | undefined {
  if (!reason) return undefined;
  const stored: WaitReason =
    reason.kind === 'BudgetFull' ? { kind: 'BudgetFull', maxUnavailable: reason.maxUnavailable } : reason;
  const since = previous?.reason === reason.kind && previous.since ? previous.since : metaTime(now);
  return { reason: reason.kind, message: describeWaitReason(stored, pool), since };
}

/**
 * Everything the rollout's own field manager applies to a Machine's status: the RolloutFailed
 * condition (rolloutFailedStatus) and `waitingFor`, in one write. Undefined when the Machine shows
 * both already, so an unchanged verdict costs no write. Server-side apply removes what this manager
 * wrote before and leaves out now, so the whole of both is always sent.
 */
export function rolloutStatusFor(
  machine: Machine,
  failure: FailedMachine | undefined,
  waitingFor: WaitingFor | undefined,
  now: Date,
): { conditions: Condition[]; waitingFor?: WaitingFor } | undefined {
  const failed = rolloutFailedStatus(machine, failure, now);
  const previous = machine.status?.waitingFor;
  const waitingChanged =
    previous?.reason !== waitingFor?.reason ||
    previous?.message !== waitingFor?.message ||
    previous?.since !== waitingFor?.since;
  if (!failed && !waitingChanged) return undefined;
  const existing = findCondition(machine.status?.conditions, MachineConditions.RolloutFailed);
  const conditions = failed?.conditions ?? (existing ? [existing] : []);
  return { conditions, ...(waitingFor ? { waitingFor } : {}) };
}

/**
 * What the rollout's field manager applies to a Machine no pool drives any more (it left its pool, or
 * its pool was deleted): no `waitingFor` and no RolloutFailed, since no rollout holds it now.
 * Undefined when the Machine shows neither, or when a pool drives it (that pool's pass writes both).
 */
export function leftPoolRolloutStatus(
  machine: Machine,
  pools: readonly NodePool[],
  now: Date,
): { conditions: Condition[] } | undefined {
  const status = rolloutStatusFor(machine, undefined, undefined, now);
  return status && !owningPool(machine, pools) ? { conditions: status.conditions } : undefined;
}
