/**
 * What a pass over a Cluster writes into its status, and when it looks again.
 * The status of a pass that progressed depends on how its writes went and on
 * what the node tier reported, so it is computed once both are known. Pure.
 */
import { ClusterConditions, setCondition } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import { nextClusterStatus } from '../cluster-status.ts';
import type { ComponentReport, OperationType } from '../cluster-status.ts';
import { nextEtcdStatus } from '../etcd-data-guard.ts';
import { withEtcdConditions } from '../etcd/etcd-conditions.ts';
import type { MembershipStep } from '../etcd/membership-plan.ts';
import { withSnapshotCondition } from '../etcd/snapshot-condition.ts';
import type { SnapshotOutcome, SnapshotPass } from '../etcd/snapshots.ts';
import { snapshotsWanted } from '../etcd/snapshot-plan.ts';
import type { GateRecord } from '../gate-records.ts';
import type { NodeTierReport } from '../node-api/node-tier.ts';
import { withNodeTier } from '../node-api/node-tier.ts';
import { withCertificates } from '../pki/certificate-lifecycle.ts';
import { RESTORING } from '../etcd/restore-plan.ts';
import type { Hold } from './guards.ts';
import type { PlanInputs, ProgressPlan } from './plan.ts';

/** Look again this often while a rollout is under way, in case an event was missed. */
export const PROGRESS_RECHECK_MS = 30_000;
/** Look again this often when all is well (and at the next certificate renewal, if sooner). */
export const STEADY_RECHECK_MS = 60 * 60_000;
/** How often the Secret of an external etcd is read again when nothing else brings a reconcile. */
export const EXTERNAL_ETCD_SECRET_RECHECK_MS = 5 * 60_000;
/** After a write lost to a newer object, look again this soon (the cache catches up). */
export const STALE_RECHECK_MS = 250;

/** How the plan's writes went, and what the node tier reported after them. */
export interface PassOutcome {
  /** Why writing failed, if it did. */
  applyError?: string;
  nodeTier?: NodeTierReport;
  /** This pass's etcd membership step: EtcdMembership says whether it waits. */
  etcdMembershipStep?: MembershipStep;
  /** What this pass did about etcd snapshots, and the last one known: status.etcd.lastSnapshot and EtcdBackup. */
  etcdSnapshot?: SnapshotPass;
}

export interface PassStatus {
  status: ClusterStatus;
  operation: OperationType;
  /** Gates that passed in this pass: a metric and an Event each, once the status is written. */
  completedGates: GateRecord[];
  requeueAfter: number;
}

export function passStatus(
  inputs: PlanInputs,
  plan: ProgressPlan,
  outcome: PassOutcome,
  at: Date,
): PassStatus {
  const { cluster, resolved, names, certificates } = inputs;
  const { context, rendered, halted } = plan;
  const generation = cluster.metadata.generation ?? 0;
  const external = resolved.etcd.external;
  const reports: ComponentReport[] = rendered.map((r) => ({
    name: r.component.name,
    ...(r.component.condition ? { condition: r.component.condition } : {}),
    status: r.status,
    needsWrite: r.stale.length > 0,
  }));
  const result = nextClusterStatus({
    previous: cluster.status,
    generation,
    cluster: resolved,
    reports,
    plan: plan.gates,
    endpoint: context.endpoint.url,
    kubeconfigSecretName: names.secrets.adminKubeconfig,
    ...(context.pki ? { certificatesNotAfter: context.pki.notAfter } : {}),
    ...(outcome.applyError ? { applyError: outcome.applyError } : {}),
    ...(halted ? { halted } : {}),
    now: at,
  });
  const tiered = outcome.nodeTier
    ? withNodeTier(result.status, outcome.nodeTier, generation, at)
    : result.status;
  const withPki = certificates
    ? withCertificates(tiered, cluster.status, certificates, generation, at)
    : tiered;
  const etcdStatus = nextEtcdStatus(
    cluster.status,
    !external && rendered.some((r) => r.component.name === 'etcd' && r.status.available),
    at,
    inputs.etcd,
    outcome.etcdSnapshot?.lastSnapshot,
  );
  const conditions = withSnapshotCondition(
    withEtcdConditions(
      withPki.conditions,
      external ? undefined : inputs.etcd,
      outcome.etcdMembershipStep,
      generation,
      at,
    ),
    outcome.etcdSnapshot?.outcome,
    snapshotsWanted(cluster),
    generation,
    at,
  );
  const status: ClusterStatus = {
    ...withPki,
    ...(conditions ? { conditions } : {}),
    ...(inputs.pkiFingerprints ? { pki: inputs.pkiFingerprints } : {}),
    ...(etcdStatus ? { etcd: etcdStatus } : {}),
  };

  const nodeTierWake = outcome.nodeTier?.requeueAfterMs ?? Infinity;
  const renewal = certificates?.material.renewalTime;
  const renewalWake = renewal ? Math.max(STALE_RECHECK_MS, renewal.getTime() - at.getTime() + 100) : Infinity;
  // A changed Secret of an external etcd is seen only by reading it again.
  const externalSecretWake = external ? EXTERNAL_ETCD_SECRET_RECHECK_MS : Infinity;
  const snapshotWake = snapshotWakeOf(outcome.etcdSnapshot?.outcome, at);
  const soonest = Math.min(nodeTierWake, renewalWake, externalSecretWake, snapshotWake);
  // Look again when the oldest open gate reaches its deadline, in case nothing else changes by then.
  const openGateDeadlines = (result.status.gates ?? [])
    .filter((g) => !g.completedAt)
    .map((g) => Date.parse(g.startedAt) + plan.deadlineMs - at.getTime() + 100);
  const requeueAfter =
    halted || plan.gates.complete
      ? Math.min(STEADY_RECHECK_MS, soonest)
      : Math.min(soonest, Math.max(STALE_RECHECK_MS, Math.min(PROGRESS_RECHECK_MS, ...openGateDeadlines)));
  return { status, operation: result.operation, completedGates: result.completedGates, requeueAfter };
}

/** A guard holds the Cluster: Degraded with its reason, nothing progresses, the rest of the status stays as observed. */
export function heldStatus(
  previous: ClusterStatus | undefined,
  generation: number,
  hold: Pick<Hold, 'reason' | 'message'>,
  at: Date,
): ClusterStatus {
  const { reason, message } = hold;
  let conditions = setCondition(
    previous?.conditions,
    { type: ClusterConditions.Degraded, status: 'True', reason, message, observedGeneration: generation },
    at,
  );
  conditions = setCondition(
    conditions,
    { type: ClusterConditions.Progressing, status: 'False', reason, message, observedGeneration: generation },
    at,
  );
  return { ...previous, phase: 'Degraded', conditions };
}

/** While a new Cluster's etcd is restored from a snapshot: Provisioning, nothing else made yet. */
export function restoringStatus(
  previous: ClusterStatus | undefined,
  generation: number,
  message: string,
  at: Date,
): ClusterStatus {
  const reason = RESTORING;
  let conditions = previous?.conditions;
  for (const [type, status] of [
    [ClusterConditions.Progressing, 'True'],
    [ClusterConditions.EtcdAvailable, 'False'],
    [ClusterConditions.Degraded, 'False'],
  ] as const)
    conditions = setCondition(conditions, { type, status, reason, message, observedGeneration: generation }, at);
  return { ...previous, phase: 'Provisioning', conditions };
}

export function pausedStatus(
  previous: ClusterStatus | undefined,
  generation: number,
  at: Date,
): ClusterStatus {
  return {
    ...previous,
    phase: 'Paused',
    conditions: setCondition(
      previous?.conditions,
      {
        type: ClusterConditions.Progressing,
        status: 'False',
        reason: 'Paused',
        message:
          'reconciliation is paused: nothing is written until spec.paused is false and the paused annotation is gone',
        observedGeneration: generation,
      },
      at,
    ),
  };
}

/** When the next snapshot is due, or a failed one is tried again: the pass looks again then. */
function snapshotWakeOf(outcome: SnapshotOutcome | undefined, at: Date): number {
  const wakeAt = outcome?.kind === 'failed' || outcome?.kind === 'wait' ? outcome.retryAt : outcome?.dueAt;
  return wakeAt === undefined ? Infinity : Math.max(STALE_RECHECK_MS, wakeAt - at.getTime() + 100);
}
