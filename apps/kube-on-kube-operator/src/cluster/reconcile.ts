/**
 * One Cluster, level-based, with one time value per pass: observe (reads
 * only; the biz-cluster's kubelets before a minor upgrade) → guards (pure) →
 * PKI material → planCluster (pure) → apply → the node tier → status (pure)
 * and when to look again. A deleted Cluster is torn down (delete.ts).
 */
import type { ImageDigests } from '@kok/api';
import { Finalizers, isClusterPaused } from '@kok/api';
import type { EventRecorder, KubeClient, Reconciler, Request, Result } from '@kok/reconcile';
import { addFinalizer, controllerReference } from '@kok/reconcile';
import type { Logger } from 'pino';
import { controlPlaneComponents, nodeTierComponents } from '../components/bring-up-order.ts';
import type { ControlPlaneComponent } from '../components/component.ts';
import type { ClusterMetrics } from '../metrics.ts';
import type { NodeTier, NodeTierReport } from '../node-api/node-tier.ts';
import { superAdminKubeconfig } from '../node-api/super-admin.ts';
import type { CertificateReport } from '../pki/certificate-lifecycle.ts';
import { ensureCertificates, isSettled, recordCertificateEvents } from '../pki/certificate-lifecycle.ts';
import type { PkiOptions } from '../pki/pki-material.ts';
import { rolledBackHold } from '../rollback.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType } from '../resource-types.ts';
import type { ClusterWriter } from './apply.ts';
import { adoptSecrets, applyPlan, tidyPki, writeStatus } from './apply.ts';
import { deleteCluster } from './delete.ts';
import type { EtcdObserver } from '../etcd/member-observation.ts';
import { etcdObserver } from '../etcd/member-observation.ts';
import type { MembershipPass } from '../etcd/membership.ts';
import { reconcileEtcdMembership, restartJoiningPod } from '../etcd/membership.ts';
import { defragmentEtcd, EtcdDefragmentations } from '../etcd/defragmentation.ts';
import { newlyRaisedAlarm } from '../etcd/etcd-conditions.ts';
import { etcdRecheckAfterMs, EtcdTroubleRecord, isEtcdTroubled } from '../etcd/etcd-recheck.ts';
import { pendingRestore, restoreEtcd } from '../etcd/restore.ts';
import {
  RESTORE_FAILED,
  RESTORE_SOURCE_NOT_FOUND,
  restoreFailedMessage,
  restoreSourceNotFoundMessage,
  restoringMessage,
} from '../etcd/restore-plan.ts';
import type { SnapshotPass } from '../etcd/snapshots.ts';
import { EtcdSnapshotRecords, snapshotEtcd } from '../etcd/snapshots.ts';
import type { Hold, PkiToProceedWith } from './guards.ts';
import { BLOCKED_RECHECK_MS, guardCluster, nameConflictHold } from './guards.ts';
import type { ClusterCaches, ObservedCluster } from './observe.ts';
import { observeKubelets } from './observe-kubelets.ts';
import { observeCluster } from './observe.ts';
import type { PlanInputs, ProgressPlan } from './plan.ts';
import { planCluster, renderContextOf } from './plan.ts';
import { heldStatus, passStatus, pausedStatus, restoringStatus, STALE_RECHECK_MS } from './status.ts';

export interface ClusterReconcilerDeps {
  client: KubeClient;
  caches: ClusterCaches;
  metrics: ClusterMetrics;
  /** Default: the list in components/bring-up-order.ts. */
  components?: readonly ControlPlaneComponent[];
  /** Default: PKI defaults (leaves 365 days, renewed 30 days before expiry). */
  pki?: PkiOptions;
  /** Default: the system clock. Read once per pass. */
  now?: () => Date;
  /**
   * A gate open longer than this without its component Available at the
   * desired version rolls that component back. The Cluster annotation
   * clusters.kok.dev/progress-deadline-seconds overrides it. Default 10 minutes.
   */
  progressDeadlineMs?: number;
  /** Events at gates, upgrade steps, rollbacks and deletion. Default: none recorded. */
  events?: EventRecorder;
  /** The node API and node-operator after the control plane (node-api/node-tier.ts). Default: none. */
  nodeTier?: NodeTier;
  /** Reads each Cluster's etcd members through their member API. Default: at the members' DNS names. */
  etcdObserver?: EtcdObserver;
  /** When each etcd member was last defragmented, per Cluster. Default: a fresh record. */
  etcdDefragmentations?: EtcdDefragmentations;
  /** Where etcd snapshots are written. Default: none taken (EtcdBackup says so when one is due). */
  etcdSnapshotDir?: string;
  /** Each Cluster's last snapshot and failed attempt, as this operator saw them. Default: a fresh record. */
  etcdSnapshotRecords?: EtcdSnapshotRecords;
  /** Control-plane images run by digest (--image-digest). Default: every image by its tag. */
  imageDigests?: ImageDigests;
  /** Since when each Cluster's etcd has been troubled (how often to read it). Default: a fresh record. */
  etcdTrouble?: EtcdTroubleRecord;
}

export const DEFAULT_PROGRESS_DEADLINE_MS = 10 * 60_000;

export function clusterReconciler(deps: ClusterReconcilerDeps): Reconciler {
  // One observer for the reconciler's life: it spaces out the reads of each Cluster's etcd.
  const withObserver = {
    ...deps,
    etcdObserver: deps.etcdObserver ?? etcdObserver(deps.client),
    etcdDefragmentations: deps.etcdDefragmentations ?? new EtcdDefragmentations(),
    etcdSnapshotRecords: deps.etcdSnapshotRecords ?? new EtcdSnapshotRecords(),
    etcdTrouble: deps.etcdTrouble ?? new EtcdTroubleRecord(),
  };
  return (request, ctx) => reconcileCluster(withObserver, request, ctx.log);
}

export async function reconcileCluster(
  deps: ClusterReconcilerDeps,
  request: Request,
  log: Logger,
): Promise<Result | void> {
  const cached = deps.caches.clusters.getByName(request.namespace, request.name);
  if (!cached) return;
  const at = deps.now?.() ?? new Date();
  const writer: ClusterWriter = { client: deps.client, events: deps.events, log };
  if (cached.metadata.deletionTimestamp) {
    deps.etcdObserver?.forget(cached.metadata.uid ?? '');
    deps.etcdDefragmentations?.forget(cached.metadata.uid ?? '');
    deps.etcdSnapshotRecords?.forget(cached.metadata.uid ?? '');
    return deleteCluster(writer, deps.caches, cached, at);
  }

  const cluster = await addFinalizer(deps.client, clusterType, cached, Finalizers.cluster);
  const generation = cluster.metadata.generation ?? 0;
  if (isClusterPaused(cluster)) {
    await writeStatus(deps.client, cluster, pausedStatus(cluster.status, generation, at));
    return;
  }

  const observed = await observeCluster(
    deps.client,
    deps.caches,
    cluster,
    deps.nodeTier !== undefined,
    deps.etcdObserver,
    at,
    deps.imageDigests,
  );
  const guarded = guardCluster(await observeKubelets(observed, deps.nodeTier, at), at);
  if (guarded.kind === 'hold') return hold(writer, cluster, guarded.hold, at);
  if (guarded.kind === 'adopt') {
    // Looked at again once the caches hold the new owners: until then the owner checks would take them for foreign.
    await adoptSecrets(writer, cluster, guarded.secrets);
    return { requeueAfter: STALE_RECHECK_MS };
  }
  const restoreSource = pendingRestore(observed);
  if (restoreSource) {
    const restore = await restoreEtcd(writer, observed, restoreSource, controllerReference(cluster));
    if (restore.failed.length > 0) {
      const message = restoreFailedMessage(restoreSource, restore);
      return hold(writer, cluster, { reason: RESTORE_FAILED, message, requeueAfter: BLOCKED_RECHECK_MS }, at);
    }
    if (restore.sourceMissing) {
      const message = restoreSourceNotFoundMessage(restoreSource, observed.names.namespace);
      return hold(
        writer,
        cluster,
        { reason: RESTORE_SOURCE_NOT_FOUND, message, requeueAfter: RESTORE_SOURCE_RECHECK_MS },
        at,
      );
    }
    if (!restore.done) {
      const message = restoringMessage(restoreSource, restore);
      await writeStatus(deps.client, cluster, restoringStatus(cluster.status, generation, message, at));
      return { requeueAfter: RESTORE_RECHECK_MS };
    }
  }
  const components = deps.components ?? controlPlaneComponents;
  // Before the certificates: whether every component runs as desired is judged on the membership to render.
  const etcdPass = await etcdMembershipPass(deps, writer, observed, at);
  const withEtcd: ObservedCluster = {
    ...observed,
    ...(etcdPass ? { etcd: etcdPass.observation } : {}),
    ...etcdMembershipToRender(observed, etcdPass),
  };
  let certificates: CertificateReport | undefined;
  if (guarded.pki) {
    await tidyPki(writer, cluster, observed.names, guarded.pki);
    certificates = await certificatesOf(deps, withEtcd, guarded.pki, components, at);
  }
  const inputs: PlanInputs = {
    ...withEtcd,
    components,
    progressDeadlineMs: deps.progressDeadlineMs ?? DEFAULT_PROGRESS_DEADLINE_MS,
    ...(certificates ? { certificates } : {}),
    pkiFingerprints: guarded.pkiFingerprints,
  };
  const plan = planCluster(inputs, at);
  if (plan.kind === 'hold') return hold(writer, cluster, plan.hold, at);

  const written = await applyPlan(writer, cluster, plan);
  if (written.kind === 'foreign')
    return hold(writer, cluster, nameConflictHold(cluster, [written.foreign], at), at);
  // What was planned came from an outdated cache; the newer objects are on their way.
  if (written.kind === 'stale') return { requeueAfter: STALE_RECHECK_MS };
  const applyError = written.kind === 'failed' ? written.error : undefined;
  if (etcdPass && !applyError) await restartJoiningPod(deps.client, observed.names, etcdPass);
  if (certificates && !applyError) await recordCertificateEvents(deps.events, cluster, certificates, log);

  const nodeTier = deps.nodeTier && (await reconcileNodeTier(deps.nodeTier, observed, plan, at, log));
  const etcdSnapshot =
    etcdPass && !applyError ? await etcdSnapshotPass(deps, writer, withEtcd, etcdPass, at) : undefined;
  const pass = passStatus(
    inputs,
    plan,
    {
      ...(applyError ? { applyError } : {}),
      ...(nodeTier ? { nodeTier } : {}),
      ...(etcdPass ? { etcdMembershipStep: etcdPass.step } : {}),
      ...(etcdSnapshot ? { etcdSnapshot } : {}),
    },
    at,
  );
  if (!(await writeStatus(deps.client, nodeTier?.cluster ?? cluster, pass.status)))
    return { requeueAfter: STALE_RECHECK_MS };
  // Observed only once the status that records the gate is written: a reconcile on a stale cache cannot count it twice.
  for (const gate of pass.completedGates) {
    deps.metrics.gateDuration.observe(
      { gate: gate.name, operation: pass.operation },
      (gate.durationMilliseconds ?? 0) / 1000,
    );
    log.info(
      { gate: gate.name, operation: pass.operation, durationMilliseconds: gate.durationMilliseconds },
      'gate passed',
    );
    await deps.events?.record(
      cluster,
      'Normal',
      'GatePassed',
      'Gate',
      `${gate.name} passed after ${gate.durationMilliseconds ?? 0} ms (${pass.operation} to ${observed.resolved.version})`,
    );
  }
  const alarm = newlyRaisedAlarm(cluster.status?.conditions, pass.status.conditions);
  if (alarm) await deps.events?.record(cluster, 'Warning', 'EtcdAlarm', 'EtcdAlarm', alarm.message);
  const defragmented =
    etcdPass && !applyError ? await etcdDefragmentationPass(deps, writer, withEtcd, etcdPass, at) : false;
  // Throwing hands the retry to the controller's rate limiter; the status already says why.
  if (applyError)
    throw new Error(`Cluster ${observed.names.namespace}/${observed.names.cluster}: ${applyError}`);
  // A membership on its way (a learner catching up, a change to make) is looked at again soon, freshly read.
  // So is a member just defragmented: the next one may be due, and the sizes are read afresh.
  const membershipMoving = (etcdPass !== undefined && etcdPass.step.kind !== 'none') || defragmented;
  if (membershipMoving) deps.etcdObserver?.forget(cluster.metadata.uid ?? '');
  const etcdRecheck = etcdPass
    ? etcdRecheckAfterMs({
        moving: membershipMoving,
        observation: etcdPass.observation,
        podsNotReady: observed.etcdPodsNotReady,
        troubledForMs:
          deps.etcdTrouble?.troubledForMs(
            cluster.metadata.uid ?? '',
            isEtcdTroubled({ observation: etcdPass.observation, podsNotReady: observed.etcdPodsNotReady }),
            at,
          ) ?? 0,
      })
    : Infinity;
  return { requeueAfter: Math.min(pass.requeueAfter, etcdRecheck) };
}

/** While restore pods run: they are not watched, so look this often. */
export const RESTORE_RECHECK_MS = 2_000;
/** While the snapshot's claim is missing: claims are not watched either. */
export const RESTORE_SOURCE_RECHECK_MS = 15_000;

/** The membership step of this pass, when etcd answered: the operator runs it, and its members answer. */
function etcdMembershipPass(
  deps: ClusterReconcilerDeps,
  writer: ClusterWriter,
  observed: ObservedCluster,
  at: Date,
): Promise<MembershipPass> | undefined {
  const { etcd, etcdTls, etcdStatefulSetExists, resolved, cluster, names } = observed;
  if (!etcd || !etcdTls || !etcdStatefulSetExists || !deps.etcdObserver) return undefined;
  return reconcileEtcdMembership(
    { client: deps.client, observer: deps.etcdObserver, events: deps.events, log: writer.log },
    cluster,
    names,
    resolved.etcd.replicas,
    etcd,
    etcdTls,
    at,
  );
}

/** This pass's defragmentation of one etcd member, if one is due; true when one ran. */
async function etcdDefragmentationPass(
  deps: ClusterReconcilerDeps,
  writer: ClusterWriter,
  observed: ObservedCluster,
  pass: MembershipPass,
  at: Date,
): Promise<boolean> {
  if (!deps.etcdDefragmentations || !observed.etcdTls) return false;
  const step = await defragmentEtcd(
    {
      defragmentations: deps.etcdDefragmentations,
      events: deps.events,
      metrics: deps.metrics,
      log: writer.log,
    },
    observed.cluster,
    pass.observation,
    pass.step,
    observed.etcdTls,
    at,
  );
  return step.kind === 'defragment';
}

/** This pass's snapshot of etcd, if one is due (spec.etcd.backup) or asked for. */
async function etcdSnapshotPass(
  deps: ClusterReconcilerDeps,
  writer: ClusterWriter,
  observed: ObservedCluster,
  pass: MembershipPass,
  at: Date,
): Promise<SnapshotPass | undefined> {
  if (!deps.etcdSnapshotRecords || !observed.etcdTls) return undefined;
  return snapshotEtcd(
    {
      directory: deps.etcdSnapshotDir,
      records: deps.etcdSnapshotRecords,
      events: deps.events,
      metrics: deps.metrics,
      log: writer.log,
    },
    observed.cluster,
    pass.observation,
    observed.etcdTls,
    at,
  );
}

/**
 * The etcd StatefulSet's size and join Secret: from the pass's read of etcd; without one, as the
 * StatefulSet is with nothing to join once etcd had quorum, and every wanted member before (bootstrap).
 */
function etcdMembershipToRender(
  observed: ObservedCluster,
  pass: MembershipPass | undefined,
): Pick<ObservedCluster, 'etcdMembership'> {
  if (pass?.membership) return { etcdMembership: pass.membership };
  if (!observed.cluster.status?.etcd?.initializedTime) return {};
  return {
    etcdMembership: {
      replicas: observed.etcdStatefulSetReplicas ?? observed.resolved.etcd.replicas,
      join: { state: 'existing' },
    },
  };
}

/** A guard holds the Cluster: a Warning Event, Degraded with its reason, look again later. */
async function hold(writer: ClusterWriter, cluster: ClusterObject, held: Hold, at: Date): Promise<Result> {
  writer.log.warn({ reason: held.reason }, held.message);
  await writer.events?.record(cluster, 'Warning', held.reason, 'Hold', held.message);
  const status = heldStatus(cluster.status, cluster.metadata.generation ?? 0, held, at);
  await writeStatus(writer.client, cluster, status);
  return { requeueAfter: held.requeueAfter };
}

/**
 * The PKI material of this pass: leaves due are renewed; a CA rotation moves to its next phase once
 * every consumer runs with this one (and never while a rollback holds the Cluster).
 */
function certificatesOf(
  deps: ClusterReconcilerDeps,
  observed: ObservedCluster,
  pki: PkiToProceedWith,
  components: readonly ControlPlaneComponent[],
  at: Date,
): Promise<CertificateReport> {
  const { cluster, live } = observed;
  return ensureCertificates({
    cluster,
    specs: pki.specs,
    existing: pki.existing,
    options: deps.pki ?? {},
    now: at,
    held: rolledBackHold(cluster.status, cluster.metadata.generation ?? 0) !== undefined,
    settled: (material) =>
      isSettled(renderContextOf(observed, material), components, nodeTierComponents, live),
  });
}

/** The node tier's inputs from this pass's observations and plan. */
function reconcileNodeTier(
  nodeTier: NodeTier,
  observed: ObservedCluster,
  plan: ProgressPlan,
  at: Date,
  log: Logger,
): Promise<NodeTierReport> {
  const { context } = plan;
  const { names, endpoint, pki } = context;
  return nodeTier.reconcile(
    {
      cluster: observed.cluster,
      context,
      apiServerReady: plan.rendered.some(
        (r) => r.component.name === 'apiServer' && r.status.availableAtDesired,
      ),
      halted: plan.halted !== undefined,
      controlPlaneReady: plan.gates.complete && plan.rendered.every((r) => r.status.availableAtDesired),
      observedDeployment: observed.nodeTier?.nodeOperatorDeployment,
      superAdminKubeconfig: pki && (() => superAdminKubeconfig(pki, names, endpoint, at)),
      now: at,
    },
    log,
  );
}
