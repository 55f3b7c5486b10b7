/**
 * One Cluster, level-based: observe (caches) → plan (pure) → apply (server-side
 * apply of what the open gates allow) → status.
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  Annotations,
  ClusterConditions,
  ETCD_VERSION_UNKNOWN,
  etcdVersionUnknownMessage,
  Finalizers,
  isClusterPaused,
  metaTime,
  planGates,
  setCondition,
} from '@kok/api';
import type { ClusterStatus, ComponentObservation } from '@kok/api';
import type { EventRecorder, Informer, KubeClient, Reconciler, Request, Result } from '@kok/reconcile';
import {
  addFinalizer,
  controllerReference,
  hasFinalizer,
  Indexes,
  isAlreadyExists,
  isConflict,
  isNotFound,
  PatchType,
  removeFinalizer,
  withControllerReference,
} from '@kok/reconcile';
import type { ResourceType } from '@kok/reconcile';
import type { Logger } from 'pino';
import { pkiSpecs } from './pki/certificates.ts';
import { resolveCluster } from './cluster-spec.ts';
import { nextClusterStatus } from './cluster-status.ts';
import type { ComponentReport } from './cluster-status.ts';
import type { ComponentStatus, ControlPlaneComponent, RenderContext } from './components/component.ts';
import { controlPlaneComponents, nodeTierComponents } from './components/bring-up-order.ts';
import type { NetworkPolicy } from './components/network-policies.ts';
import type { CertificateReport } from './pki/certificate-lifecycle.ts';
import {
  ensureCertificates,
  isSettled,
  recordCertificateEvents,
  withCertificates,
} from './pki/certificate-lifecycle.ts';
import { endpointOf } from './endpoint.ts';
import type { ForeignObject } from './foreign-objects.ts';
import {
  foreignObjectOf,
  foreignEtcdClaimOf,
  NAME_CONFLICT,
  nameConflictMessage,
  nameConflictRecheckMs,
} from './foreign-objects.ts';
import {
  ETCD_DATA_LOST,
  etcdClaimNames,
  etcdDataLostMessage,
  isEtcdDataLost,
  nextEtcdStatus,
} from './etcd-data-guard.ts';
import { externalEtcdSecretProblem } from './external-etcd.ts';
import type { ClusterMetrics } from './metrics.ts';
import { clusterLabels, clusterNames, clusterSelector } from './names.ts';
import type { PkiOptions } from './pki/pki-material.ts';
import {
  guardPki,
  isAdoptableSecret,
  isLongLived,
  nextPkiFingerprints,
  regeneratePkiRequested,
} from './pki/pki-guard.ts';
import type { ClusterObject } from './resource-types.ts';
import { clusterType, persistentVolumeClaimType, secretType, typeOfKind } from './resource-types.ts';
import { contentHash } from './template-hash.ts';
import type { NodeTier, NodeTierReport } from './node-api/node-tier.ts';
import { withNodeTier } from './node-api/node-tier.ts';
import { superAdminKubeconfig } from './node-api/super-admin.ts';
import { isDeletionProtected, teardownStep } from './cluster/teardown.ts';
import {
  expiredGate,
  PROGRESS_DEADLINE_EXCEEDED,
  progressDeadlineMs,
  rollbackObject,
  rolledBackHold,
  withLastAvailable,
} from './rollback.ts';

export interface ClusterCaches {
  clusters: Informer<ClusterObject>;
  secrets: Informer<V1Secret>;
  services: Informer<V1Service>;
  deployments: Informer<V1Deployment>;
  statefulSets: Informer<V1StatefulSet>;
  networkPolicies: Informer<NetworkPolicy>;
}

export interface ClusterReconcilerDeps {
  client: KubeClient;
  caches: ClusterCaches;
  metrics: ClusterMetrics;
  /** Default: the list in components/bring-up-order.ts. */
  components?: readonly ControlPlaneComponent[];
  /** Default: PKI defaults (leaves 365 days, renewed 30 days before expiry). */
  pki?: PkiOptions;
  /** Default: the system clock. */
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
}

export const DEFAULT_PROGRESS_DEADLINE_MS = 10 * 60_000;

/** Look again this often while a rollout is under way, in case an event was missed. Default 30 s. */
const PROGRESS_RECHECK_MS = 30_000;
/** Look again this often when all is well (and at the next certificate renewal, if sooner). */
const STEADY_RECHECK_MS = 60 * 60_000;
/** Teardown polls this fast: the next tier waits for the previous one to vanish. */
const TEARDOWN_RECHECK_MS = 1_000;
/** While a guard holds a Cluster (PKI missing, etcd data lost): look again this often, in case nothing we watch changes. */
const BLOCKED_RECHECK_MS = 60_000;
/** How often the Secret of an external etcd is read again when nothing else brings a reconcile. */
const EXTERNAL_ETCD_SECRET_RECHECK_MS = 5 * 60_000;
/** After a status write lost to a newer object, look again this soon (the cache catches up). */
const STALE_RECHECK_MS = 250;

export function clusterReconciler(deps: ClusterReconcilerDeps): Reconciler {
  return (request, ctx) => reconcileCluster(deps, request, ctx.log);
}

export async function reconcileCluster(
  deps: ClusterReconcilerDeps,
  request: Request,
  log: Logger,
): Promise<Result | void> {
  const now = deps.now ?? (() => new Date());
  const cached = deps.caches.clusters.getByName(request.namespace, request.name);
  if (!cached) return;
  if (cached.metadata.deletionTimestamp) return teardown(deps, cached, log, now());

  const cluster = await addFinalizer(deps.client, clusterType, cached, Finalizers.cluster);
  const resolved = resolveCluster(cluster);
  const generation = cluster.metadata.generation ?? 0;

  if (isClusterPaused(cluster)) {
    await writeStatus(deps, cluster, pausedStatus(cluster.status, generation, now()));
    return;
  }
  const names = clusterNames(resolved.namespace, resolved.name);
  const blocked = async (
    reason: string,
    message: string,
    recheckMs = BLOCKED_RECHECK_MS,
  ): Promise<Result> => {
    log.warn({ reason }, message);
    await deps.events?.record(cluster, 'Warning', reason, 'Hold', message);
    await writeStatus(deps, cluster, blockedStatus(cluster.status, generation, now(), reason, message));
    return { requeueAfter: recheckMs };
  };
  const uid = cluster.metadata.uid ?? '';
  const nameConflict = (taken: readonly ForeignObject[]) =>
    blocked(NAME_CONFLICT, nameConflictMessage(taken, uid), nameConflictRecheckMs(cluster.status, now()));
  const external = resolved.etcd.external;
  if (!external && resolved.etcd.version === undefined)
    return blocked(ETCD_VERSION_UNKNOWN, etcdVersionUnknownMessage(resolved.version));
  // The user's Secret has no managed-by label, so no cache holds it: read it each time.
  const externalEtcdSecret =
    external && (await getIfExists(deps.client, secretType, names.namespace, external.tlsSecretName));
  const externalEtcdProblem =
    external && externalEtcdSecretProblem(names.namespace, external.tlsSecretName, externalEtcdSecret);
  if (externalEtcdProblem) return blocked(externalEtcdProblem.reason, externalEtcdProblem.message);
  // A Cluster whose name the CRD now refuses (made before the rule) keeps running: the owner checks
  // below hold whichever of two colliding Clusters finds the other's object, never both.

  const etcdStatefulSet = deps.caches.statefulSets.getByName(names.namespace, names.etcd);
  // The StatefulSet controller mounts any claim of a member's name: those it is about to use must be ours.
  const firstNewMember = etcdStatefulSet?.spec?.replicas ?? 0;
  if (!external && firstNewMember < resolved.etcd.replicas) {
    // Rare (bring-up, a new member, the StatefulSet gone): read the claims rather than keep a cache of every PVC.
    const claimNames = etcdClaimNames(names, resolved.etcd.replicas).slice(firstNewMember);
    const claims = await Promise.all(
      claimNames.map((name) => getIfExists(deps.client, persistentVolumeClaimType, names.namespace, name)),
    );
    const foreignClaims = claims.flatMap((claim) => foreignEtcdClaimOf(claim, names.cluster) ?? []);
    if (foreignClaims.length > 0) return nameConflict(foreignClaims);
    const claimsLeft = claims.filter((c) => c && !c.metadata?.deletionTimestamp).length;
    if (
      cluster.status?.etcd?.initializedTime &&
      !etcdStatefulSet &&
      isEtcdDataLost({ status: cluster.status, statefulSetExists: false, claimsLeft })
    )
      return blocked(ETCD_DATA_LOST, etcdDataLostMessage(names, claimNames));
  }

  // Observe and render, component by component, in bring-up order.
  const apiServerService = deps.caches.services.getByName(names.namespace, names.apiServerService);
  const endpoint = endpointOf(resolved, names, apiServerService);
  const context: RenderContext = {
    cluster: resolved,
    names,
    owner: controllerReference(cluster),
    endpoint,
    pki: undefined,
    ...(externalEtcdSecret ? { externalEtcdSecret } : {}),
  };
  const components = deps.components ?? controlPlaneComponents;
  const clusterIP = apiServerService?.spec?.clusterIP;
  // Long-lived Secrets read from the apiserver because the cache (managed-by label) does not hold them.
  const fetched = new Map<string, V1Secret>();
  const observe = (desired: KubernetesObject) =>
    observedObject(deps.caches, desired) ??
    (desired.kind === 'Secret' ? fetched.get(desired.metadata?.name ?? '') : undefined);
  let certificates: CertificateReport | undefined;
  let pkiFingerprints = cluster.status?.pki;
  if (clusterIP) {
    // The PKI names the apiserver Service's address, so it is made once that exists.
    const specs = pkiSpecs({ cluster: resolved, names, endpoint, apiServerClusterIP: clusterIP });
    // Looked up by name, not by listing the namespace: many Clusters may share one.
    const found = new Map<string, V1Secret>();
    for (const spec of specs) {
      const { secretName } = spec;
      const cachedSecret = deps.caches.secrets.getByName(names.namespace, secretName);
      // A CA or key the cache lacks may still exist (its label lost): never make one without asking.
      const secret =
        cachedSecret ??
        (isLongLived(spec)
          ? await getIfExists(deps.client, secretType, names.namespace, secretName)
          : undefined);
      if (secret) found.set(secretName, secret);
      if (secret && !cachedSecret) fetched.set(secretName, secret);
    }
    const guard = guardPki({
      specs,
      found,
      clusterUid: cluster.metadata.uid ?? '',
      clusterName: names.cluster,
      recorded: cluster.status?.pki,
      regenerateRequested: regeneratePkiRequested(cluster.metadata.annotations),
    });
    if (guard.kind === 'blocked') return blocked(guard.reason, guard.message);
    if (guard.adopt.length > 0) return adoptSecrets(deps, cluster, guard.adopt, found, log);
    // Ours but unlabelled: labelled again, so the caches (and teardown) see it once more.
    for (const secretName of fetched.keys()) {
      await deps.client.patch(secretType, { namespace: names.namespace, name: secretName }, PatchType.merge, {
        metadata: { labels: clusterLabels(names.cluster, 'pki') },
      });
      log.info({ secret: secretName }, 'labelled again');
    }
    if (guard.removeRegenerateAnnotation) {
      // One-shot: every CA and key exists again, so the annotation has done its work.
      await deps.client.patch(
        clusterType,
        { namespace: names.namespace, name: names.cluster },
        PatchType.merge,
        { metadata: { annotations: { [Annotations.regeneratePki]: null } } },
      );
      await deps.events?.record(
        cluster,
        'Normal',
        'PKIRegenerated',
        'RegeneratePKI',
        `every CA and service-account key Secret exists; annotation ${Annotations.regeneratePki} removed`,
      );
    }
    const existing = guard.existing;
    pkiFingerprints = nextPkiFingerprints(cluster.status?.pki, specs, existing);
    // Leaves due are renewed; a CA rotation moves to its next phase once every consumer runs with this one.
    certificates = await ensureCertificates({
      cluster,
      specs,
      existing,
      options: deps.pki ?? {},
      now: now(),
      held: rolledBackHold(cluster.status, generation) !== undefined,
      settled: (pki) => isSettled({ ...context, pki }, components, nodeTierComponents, observe),
    });
    context.pki = certificates.material;
  }
  const rendered = components.map((component) => {
    const desired = component.render(context);
    const observed = (desired ?? []).map(observe);
    const status: ComponentStatus = desired
      ? component.status(observed, desired, context)
      : {
          available: false,
          availableAtDesired: false,
          reason: 'WaitingForInputs',
          message: `${component.name} waits for the Services and PKI`,
        };
    const stale = (desired ?? []).filter((d, i) => component.needsUpdate(observed[i], d));
    return { component, desired, stale, status };
  });
  // An object of a derived name that this Cluster does not control is neither adopted nor overwritten.
  const taken = rendered.flatMap((r) =>
    (r.desired ?? []).flatMap((d) => foreignObjectOf(d.kind ?? '', observe(d), uid) ?? []),
  );
  const nodeOperatorTaken =
    deps.nodeTier &&
    foreignObjectOf(
      'Deployment',
      deps.caches.deployments.getByName(names.namespace, names.nodeOperator),
      uid,
    );
  if (nodeOperatorTaken) taken.push(nodeOperatorTaken);
  if (taken.length > 0) return nameConflict(taken);

  const observations: ComponentObservation[] = rendered.map((r) => ({
    name: r.component.name,
    dependsOn: r.component.dependsOn,
    rendered: r.desired !== undefined,
    needsWrite: r.stale.length > 0,
    availableAtDesired: r.status.availableAtDesired,
  }));
  const plan = planGates(observations);

  // A rolled-back operation holds until the spec changes; otherwise a gate past its deadline rolls back.
  let halted = rolledBackHold(cluster.status, generation);
  const deadlineMs = progressDeadlineMs(cluster, deps.progressDeadlineMs ?? DEFAULT_PROGRESS_DEADLINE_MS);
  const expired =
    halted || cluster.status?.observedGeneration !== generation
      ? undefined
      : expiredGate(
          cluster.status?.gates ?? [],
          rendered.flatMap((r) =>
            r.component.condition
              ? [
                  {
                    gate: r.component.condition,
                    open: plan.open.includes(r.component.name),
                    availableAtDesired: r.status.availableAtDesired,
                  },
                ]
              : [],
          ),
          deadlineMs,
          now(),
        );
  const late = expired && rendered.find((r) => r.component.condition === expired.gate);
  if (late) {
    const rollbacks = (late.desired ?? []).flatMap((d) => {
      const back = rollbackObject(d, observe(d));
      return back ? [back] : [];
    });
    const what = `${late.component.name} did not become Available at ${resolved.version} within ${deadlineMs / 1000} s (${late.status.message})`;
    if (rollbacks.length > 0) {
      // Written before the status: if this fails or the operator dies, the next reconcile finds the same expired gate.
      for (const obj of rollbacks) await writeObject(deps.client, obj, observe(obj));
      halted = {
        reason: PROGRESS_DEADLINE_EXCEEDED,
        message: `${what}: rolled back to its last Available revision; no further step until the spec changes`,
      };
      log.warn(
        { component: late.component.name, gate: expired.gate },
        'progress deadline exceeded; rolled back',
      );
      await deps.events?.record(cluster, 'Warning', 'RolledBack', 'Rollback', halted.message);
    } else {
      log.warn(
        { component: late.component.name, gate: expired.gate },
        'progress deadline exceeded; nothing to roll back to',
      );
      await deps.events?.record(
        cluster,
        'Warning',
        PROGRESS_DEADLINE_EXCEEDED,
        'Wait',
        `${what}: it has no earlier Available revision to roll back to; still waiting`,
      );
    }
  }

  // Apply what the open gates allow, in order; stop at the first failure.
  let applyError: string | undefined;
  let staleCache = false;
  let foreign: ForeignObject | undefined;
  const upgrading = (cluster.status?.version?.current ?? resolved.version) !== resolved.version;
  for (const r of rendered) {
    if (halted || !plan.apply.includes(r.component.name) || applyError || staleCache || foreign) continue;
    let written = 0;
    for (const obj of r.stale) {
      try {
        const observed = observe(obj);
        await writeObject(deps.client, withLastAvailable(obj, observed), observed);
        written++;
        log.info({ component: r.component.name, kind: obj.kind, name: obj.metadata?.name }, 'applied');
      } catch (error) {
        // Not in the caches yet, or not ours: waiting for the cache would wait forever for a foreign one.
        if (isAlreadyExists(error)) foreign = await foreignObjectNamed(deps.client, obj, cluster);
        if (foreign) break;
        if (isConflict(error) || isAlreadyExists(error)) staleCache = true;
        else applyError = `writing ${obj.kind} ${obj.metadata?.name} failed: ${(error as Error).message}`;
        break;
      }
    }
    if (written > 0 && r.component.condition)
      await deps.events?.record(
        cluster,
        'Normal',
        upgrading ? 'UpgradeStep' : 'ComponentApplied',
        'Apply',
        `${r.component.name}: ${written} object(s) written for ${resolved.version}`,
      );
  }
  if (foreign) return nameConflict([foreign]);
  // What was planned came from an outdated cache; the newer objects are on their way.
  if (staleCache) return { requeueAfter: STALE_RECHECK_MS };
  if (certificates && !applyError) await recordCertificateEvents(deps.events, cluster, certificates, log);

  const nodeTier =
    deps.nodeTier &&
    (await reconcileNodeTier(
      deps.nodeTier,
      deps.caches,
      cluster,
      context,
      rendered,
      halted !== undefined,
      now(),
      log,
    ));

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
    plan,
    endpoint: endpoint.url,
    kubeconfigSecretName: names.secrets.adminKubeconfig,
    ...(context.pki ? { certificatesNotAfter: context.pki.notAfter } : {}),
    ...(applyError ? { applyError } : {}),
    ...(halted ? { halted } : {}),
    now: now(),
  });
  const tiered = nodeTier ? withNodeTier(result.status, nodeTier, generation, now()) : result.status;
  const withPki = certificates
    ? withCertificates(tiered, cluster.status, certificates, generation, now())
    : tiered;
  const etcdStatus = nextEtcdStatus(
    cluster.status,
    !external && rendered.some((r) => r.component.name === 'etcd' && r.status.available),
    now(),
  );
  const status: ClusterStatus = {
    ...withPki,
    ...(pkiFingerprints ? { pki: pkiFingerprints } : {}),
    ...(etcdStatus ? { etcd: etcdStatus } : {}),
  };
  if (!(await writeStatus(deps, nodeTier?.cluster ?? cluster, status)))
    return { requeueAfter: STALE_RECHECK_MS };
  // Observed only once the status that records the gate is written: a reconcile on a stale cache cannot count it twice.
  for (const gate of result.completedGates) {
    deps.metrics.gateDuration.observe(
      { gate: gate.name, operation: result.operation },
      (gate.durationMilliseconds ?? 0) / 1000,
    );
    log.info(
      { gate: gate.name, operation: result.operation, durationMilliseconds: gate.durationMilliseconds },
      'gate passed',
    );
    await deps.events?.record(
      cluster,
      'Normal',
      'GatePassed',
      'Gate',
      `${gate.name} passed after ${gate.durationMilliseconds ?? 0} ms (${result.operation} to ${resolved.version})`,
    );
  }
  // Throwing hands the retry to the controller's rate limiter; the status already says why.
  if (applyError) throw new Error(`Cluster ${names.namespace}/${names.cluster}: ${applyError}`);
  const nodeTierWake = nodeTier?.requeueAfterMs ?? Infinity;
  const renewal = certificates?.material.renewalTime;
  const renewalWake = renewal
    ? Math.max(STALE_RECHECK_MS, renewal.getTime() - now().getTime() + 100)
    : Infinity;
  // A changed Secret of an external etcd is seen only by reading it again.
  const externalSecretWake = external ? EXTERNAL_ETCD_SECRET_RECHECK_MS : Infinity;
  if (halted || plan.complete)
    return { requeueAfter: Math.min(STEADY_RECHECK_MS, nodeTierWake, renewalWake, externalSecretWake) };
  // Look again when the oldest open gate reaches its deadline, in case nothing else changes by then.
  const openSince = (result.status.gates ?? [])
    .filter((g) => !g.completedAt)
    .map((g) => Date.parse(g.startedAt) + deadlineMs - now().getTime() + 100);
  return {
    requeueAfter: Math.min(
      nodeTierWake,
      renewalWake,
      externalSecretWake,
      Math.max(STALE_RECHECK_MS, Math.min(PROGRESS_RECHECK_MS, ...openSince)),
    ),
  };
}

/** The node tier's inputs from this reconcile's observations. */
function reconcileNodeTier(
  nodeTier: NodeTier,
  caches: ClusterCaches,
  cluster: ClusterObject,
  context: RenderContext,
  rendered: readonly { component: ControlPlaneComponent; status: ComponentStatus }[],
  halted: boolean,
  now: Date,
  log: Logger,
): Promise<NodeTierReport> {
  const { names, endpoint, pki } = context;
  return nodeTier.reconcile(
    {
      cluster,
      context,
      apiServerReady: rendered.some((r) => r.component.name === 'apiServer' && r.status.availableAtDesired),
      halted,
      observedDeployment: caches.deployments.getByName(names.namespace, names.nodeOperator),
      superAdminKubeconfig: pki && (() => superAdminKubeconfig(pki, names, endpoint, now)),
      now,
    },
    log,
  );
}

/**
 * Creates what the cache says is missing and server-side applies the rest,
 * both guarded: a create fails if the object exists after all, an apply
 * carries the resourceVersion the decision was made on. So an outdated cache
 * can never overwrite fresh material, such as a CA made a moment ago.
 */
async function writeObject(
  client: KubeClient,
  desired: KubernetesObject,
  observed: KubernetesObject | undefined,
): Promise<void> {
  const type = typeOfKind(desired.kind);
  if (!observed) {
    await client.create(type, desired);
    return;
  }
  const resourceVersion = observed.metadata?.resourceVersion;
  await client.apply(type, { ...desired, metadata: { ...desired.metadata, resourceVersion } });
}

/** The object, or undefined when there is none. */
async function getIfExists<T extends KubernetesObject>(
  client: KubeClient,
  type: ResourceType<T>,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await client.get(type, { namespace, name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The live object of the name `desired` has, if it exists under another controller than `cluster`.
 * A Secret the PKI guard adopts is not foreign: the caches had not seen it yet.
 */
async function foreignObjectNamed(
  client: KubeClient,
  desired: KubernetesObject,
  cluster: ClusterObject,
): Promise<ForeignObject | undefined> {
  const live = await getIfExists(
    client,
    typeOfKind(desired.kind),
    desired.metadata?.namespace ?? '',
    desired.metadata?.name ?? '',
  );
  if (live && desired.kind === 'Secret' && isAdoptableSecret(live, cluster.metadata.name ?? ''))
    return undefined;
  return foreignObjectOf(desired.kind ?? '', live, cluster.metadata.uid ?? '');
}

/**
 * Makes the Cluster the controller of Secrets labelled for it that nothing controls (restored from a
 * backup), each guarded by the resourceVersion it was judged on, then looks again once the caches
 * hold the new owners: until then the owner checks would take them for foreign.
 */
async function adoptSecrets(
  deps: ClusterReconcilerDeps,
  cluster: ClusterObject,
  secretNames: readonly string[],
  found: ReadonlyMap<string, V1Secret>,
  log: Logger,
): Promise<Result> {
  const namespace = cluster.metadata.namespace ?? '';
  for (const name of secretNames) {
    const secret = found.get(name);
    if (!secret) continue;
    try {
      await deps.client.patch(secretType, { namespace, name }, PatchType.merge, {
        metadata: {
          resourceVersion: secret.metadata?.resourceVersion,
          ownerReferences: withControllerReference(secret, cluster).metadata?.ownerReferences,
        },
      });
    } catch (error) {
      // Changed or gone since it was read: judged again from the newer object.
      if (isConflict(error) || isNotFound(error)) return { requeueAfter: STALE_RECHECK_MS };
      throw error;
    }
  }
  log.info({ secrets: secretNames }, 'adopted');
  await deps.events?.record(
    cluster,
    'Normal',
    'SecretsAdopted',
    'Adopt',
    `${secretNames.length} Secret(s) labelled for this Cluster and controlled by nothing (restored from a backup) ` +
      `adopted: ${secretNames.join(', ')}`,
  );
  return { requeueAfter: STALE_RECHECK_MS };
}

/** The live object a desired one corresponds to, from the caches. */
function observedObject(caches: ClusterCaches, desired: KubernetesObject): KubernetesObject | undefined {
  const { namespace, name = '' } = desired.metadata ?? {};
  switch (desired.kind) {
    case 'Secret':
      return caches.secrets.getByName(namespace, name);
    case 'Service':
      return caches.services.getByName(namespace, name);
    case 'Deployment':
      return caches.deployments.getByName(namespace, name);
    case 'StatefulSet':
      return caches.statefulSets.getByName(namespace, name);
    case 'NetworkPolicy':
      return caches.networkPolicies.getByName(namespace, name);
    default:
      return undefined;
  }
}

/**
 * Writes the status if it changed, guarded by the resourceVersion the status
 * was computed from. Returns false when the cache was stale (Conflict): the
 * caller looks again shortly, from the newer object.
 */
async function writeStatus(
  deps: ClusterReconcilerDeps,
  cluster: ClusterObject,
  status: ClusterStatus,
): Promise<boolean> {
  if (contentHash(cluster.status ?? {}) === contentHash(status)) return true;
  try {
    await deps.client.mergePatchStatus(
      clusterType,
      { namespace: cluster.metadata.namespace, name: cluster.metadata.name ?? '' },
      { metadata: { resourceVersion: cluster.metadata.resourceVersion }, status },
    );
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/** Deletes owned objects tier by tier, then the etcd volumes, then lets the Cluster go. */
async function teardown(
  deps: ClusterReconcilerDeps,
  cluster: ClusterObject,
  log: Logger,
  now: Date,
): Promise<Result | void> {
  if (!hasFinalizer(cluster, Finalizers.cluster)) return;
  if (isDeletionProtected(cluster.metadata.annotations)) {
    const message = `deletion is held: the Cluster carries ${Annotations.deletionProtection}=true; nothing is torn down until the annotation is removed`;
    if (deletionBlocked(cluster.status)?.status !== 'True') {
      log.warn(message);
      await deps.events?.record(cluster, 'Warning', 'DeletionProtected', 'Delete', message);
    }
    await writeStatus(deps, cluster, {
      ...cluster.status,
      conditions: setCondition(
        cluster.status?.conditions,
        { type: ClusterConditions.DeletionBlocked, status: 'True', reason: 'DeletionProtected', message },
        now,
      ),
    });
    // Removing the annotation is a change of the Cluster: it brings the next reconcile.
    return;
  }
  const uid = cluster.metadata.uid ?? '';
  const { caches } = deps;
  const owned: KubernetesObject[] = [
    ...caches.deployments.byIndex(Indexes.ownerUid, uid),
    ...caches.statefulSets.byIndex(Indexes.ownerUid, uid),
    ...caches.services.byIndex(Indexes.ownerUid, uid),
    ...caches.secrets.byIndex(Indexes.ownerUid, uid),
  ];
  const step = teardownStep(owned);
  if (cluster.status?.phase !== 'Deleting') {
    await deps.events?.record(cluster, 'Normal', 'Deleting', 'Delete', 'tearing down the control plane');
    await writeStatus(deps, cluster, {
      ...cluster.status,
      ...(deletionBlocked(cluster.status)
        ? {
            conditions: setCondition(
              cluster.status?.conditions,
              {
                type: ClusterConditions.DeletionBlocked,
                status: 'False',
                reason: 'Deleting',
                message: 'deletion protection removed; tearing down',
              },
              now,
            ),
          }
        : {}),
      phase: 'Deleting',
      lastOperation: {
        type: 'Delete',
        state: 'Processing',
        startedAt: metaTime(now),
        message: 'tearing down the control plane',
      },
    });
  }
  if (!step.done) {
    for (const obj of step.delete) {
      await deps.client.delete(typeOfKind(obj.kind), {
        namespace: obj.metadata?.namespace,
        name: obj.metadata?.name ?? '',
      });
      log.info({ kind: obj.kind, name: obj.metadata?.name }, 'deleted');
    }
    return { requeueAfter: TEARDOWN_RECHECK_MS };
  }
  // etcd's volumes belong to the StatefulSet's pods, not to the Cluster: delete them by label.
  const names = clusterNames(cluster.metadata.namespace ?? '', cluster.metadata.name ?? '');
  const claims = await deps.client.list(persistentVolumeClaimType, {
    namespace: names.namespace,
    labelSelector: clusterSelector(names.cluster),
  });
  for (const claim of claims.items) {
    if (claim.metadata?.deletionTimestamp) continue;
    await deps.client.delete(persistentVolumeClaimType, {
      namespace: names.namespace,
      name: claim.metadata?.name ?? '',
    });
  }
  await deps.events?.record(
    cluster,
    'Normal',
    'Deleted',
    'Delete',
    'control plane, PKI and etcd volumes are gone',
  );
  await removeFinalizer(deps.client, clusterType, cluster, Finalizers.cluster);
  log.info('control plane torn down; finalizer removed');
}

const deletionBlocked = (status: ClusterStatus | undefined) =>
  status?.conditions?.find((c) => c.type === ClusterConditions.DeletionBlocked);

/** A guard holds the Cluster: Degraded with its reason, nothing progresses, the rest of the status stays as observed. */
function blockedStatus(
  previous: ClusterStatus | undefined,
  generation: number,
  now: Date,
  reason: string,
  message: string,
): ClusterStatus {
  let conditions = setCondition(
    previous?.conditions,
    { type: ClusterConditions.Degraded, status: 'True', reason, message, observedGeneration: generation },
    now,
  );
  conditions = setCondition(
    conditions,
    { type: ClusterConditions.Progressing, status: 'False', reason, message, observedGeneration: generation },
    now,
  );
  return { ...previous, phase: 'Degraded', conditions };
}

export function pausedStatus(
  previous: ClusterStatus | undefined,
  generation: number,
  now: Date,
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
      now,
    ),
  };
}
