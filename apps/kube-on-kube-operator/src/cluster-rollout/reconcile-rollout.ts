/**
 * One ClusterRollout, level-based: observe the Clusters it selects (caches
 * only) → plan (pure, @kok/rollout planClusterRollout) → apply (guarded
 * patches on Clusters, the rollout's own pause) → status and Events. Nothing
 * lives in memory: the Clusters' spec, status and the record on each say
 * everything.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  apiVersionOf,
  ClusterRolloutResource,
  observeCluster,
  PAUSED_AFTER_WAVE_ANNOTATION,
  readRecord,
  recordedRolloutUid,
  recordValue,
  ROLLOUT_RECORD_ANNOTATION,
} from '@kok/api';
import type { ClusterRollout, ClusterRolloutStatus } from '@kok/api';
import type { EventRecorder, Informer, KubeClient, Request, Result } from '@kok/reconcile';
import { InvalidError, isConflict, isNotFound, PatchType, resourceType } from '@kok/reconcile';
import {
  clusterRolloutInput,
  describeFailures,
  matchesSelector,
  pausedAfterWaveValue,
  planClusterRollout,
  selectedClusters,
} from '@kok/rollout';
import type { ClusterRolloutPlan, ClusterState } from '@kok/rollout';
import type { Logger } from 'pino';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType } from '../resource-types.ts';
import { contentHash } from '../template-hash.ts';
import { rolloutStatus } from './rollout-status.ts';

export { PAUSED_AFTER_WAVE_ANNOTATION };

/** A ClusterRollout as the apiserver serves it (client-node's metadata type). */
export type ClusterRolloutObject = Omit<ClusterRollout, 'metadata'> & { metadata: V1ObjectMeta };

export const clusterRolloutType = resourceType<ClusterRolloutObject>(
  apiVersionOf(ClusterRolloutResource),
  ClusterRolloutResource.kind,
  ClusterRolloutResource.plural,
  true,
);

export interface RolloutCaches {
  rollouts: Informer<ClusterRolloutObject>;
  clusters: Informer<ClusterObject>;
}

export interface RolloutReconcilerDeps {
  client: KubeClient;
  caches: RolloutCaches;
  /** Events at wave start and end, failures, pause and completion. Default: none recorded. */
  events?: EventRecorder;
  /** Default: the system clock. */
  now?: () => Date;
}

/** Look again this often while clusters are upgrading, in case a Cluster event was missed. */
const PROGRESS_RECHECK_MS = 30_000;
/** After a write lost to a newer object, look again this soon (the cache catches up). */
const STALE_RECHECK_MS = 250;

/** The rollouts a Cluster event concerns: those that select it, and the one recorded on it. */
export function rolloutsOfCluster(
  rollouts: Informer<ClusterRolloutObject>,
  cluster: ClusterObject,
): Request[] {
  const namespace = cluster.metadata.namespace;
  const labels = cluster.metadata.labels ?? {};
  const names = new Set(
    rollouts
      .list(namespace)
      .filter((r) => matchesSelector(labels, r.spec.clusterSelector))
      .map((r) => r.metadata.name ?? ''),
  );
  const recorded = readRecord(cluster.metadata.annotations)?.rollout;
  if (recorded) names.add(recorded);
  return [...names].map((name) => ({ namespace, name }));
}

export async function reconcileClusterRollout(
  deps: RolloutReconcilerDeps,
  request: Request,
  log: Logger,
): Promise<Result | void> {
  const now = (deps.now ?? (() => new Date()))();
  const rollout = deps.caches.rollouts.getByName(request.namespace, request.name);
  if (!rollout || rollout.metadata.deletionTimestamp) return;
  const { spec } = rollout;
  const uid = rollout.metadata.uid ?? '';
  const namespace = rollout.metadata.namespace ?? '';
  const generation = rollout.metadata.generation ?? 0;
  // Done for good until its spec changes: a later rollout may move these clusters on, and this one must not move them back.
  if (rollout.status?.phase === 'Succeeded' && rollout.status.observedGeneration === generation) return;

  const selected = selectedClusters(
    rollout,
    deps.caches.clusters.list(rollout.metadata.namespace),
    deps.caches.rollouts.list(rollout.metadata.namespace),
    recordedRolloutUid,
  );
  const pausedAfterWave = rollout.metadata.annotations?.[PAUSED_AFTER_WAVE_ANNOTATION];
  const planFor = (clusters: ClusterState[]): ClusterRolloutPlan =>
    planClusterRollout(clusterRolloutInput(spec, pausedAfterWave, clusters, now.getTime()));
  let states = selected.map((c) => observeCluster(c, uid));
  const plan = planFor(states);
  const byName = new Map(selected.map((c) => [c.metadata.name ?? '', c] as const));
  const owner = { rollout: rollout.metadata.name ?? '', uid };
  let stale = false;

  // Failures first: once recorded they hold even if someone moves the cluster back by hand.
  for (const failure of plan.newFailures) {
    const cluster = byName.get(failure.cluster);
    const started = states.find((s) => s.name === failure.cluster)?.record?.startedAt ?? now.getTime();
    if (!cluster) continue;
    const ok = await patchCluster(deps.client, cluster, {
      metadata: {
        annotations: {
          [ROLLOUT_RECORD_ANNOTATION]: recordValue({
            ...owner,
            wave: failure.wave,
            version: spec.version,
            startedAt: started,
            failedAt: now.getTime(),
            failure: failure.message,
          }),
        },
      },
    });
    if (!ok) stale = true;
    else {
      log.warn({ cluster: failure.cluster, wave: failure.wave }, 'cluster failed');
      await deps.events?.record(
        rollout,
        'Warning',
        'ClusterFailed',
        'Rollout',
        `Cluster ${failure.cluster} (wave ${failure.wave}) failed at ${spec.version}: ${failure.message}`.slice(
          0,
          1024,
        ),
      );
    }
  }

  // Then the starts, wave by wave in name order: the version (and node-pool versions) and the record in one guarded patch.
  const nodePools = spec.nodePools ? { nodePools: { components: spec.nodePools.components } } : {};
  const previousWaves = new Map((rollout.status?.waves ?? []).map((w) => [w.index, w] as const));
  const startedWaves = new Set<string>();
  for (const { cluster: name, wave } of stale ? [] : plan.start) {
    const cluster = byName.get(name);
    if (!cluster) continue;
    const record = { ...owner, wave, version: spec.version, startedAt: now.getTime() };
    try {
      const ok = await patchCluster(deps.client, cluster, {
        metadata: { annotations: { [ROLLOUT_RECORD_ANNOTATION]: recordValue(record) } },
        spec: { version: spec.version, ...nodePools },
      });
      if (!ok) {
        stale = true;
        break;
      }
    } catch (error) {
      // The Cluster refuses the version (e.g. more than one minor): that cluster failed, the rest goes on.
      if (!(error instanceof InvalidError)) throw error;
      const message = `the Cluster refused version ${spec.version}: ${error.message}`;
      await patchCluster(deps.client, cluster, {
        metadata: {
          annotations: {
            [ROLLOUT_RECORD_ANNOTATION]: recordValue({
              ...record,
              failedAt: now.getTime(),
              failure: message,
            }),
          },
        },
      });
      await deps.events?.record(
        rollout,
        'Warning',
        'ClusterFailed',
        'Rollout',
        `Cluster ${name}: ${message}`.slice(0, 1024),
      );
      stale = true;
      continue;
    }
    log.info({ cluster: name, wave, version: spec.version }, 'cluster started');
    states = states.map((s) =>
      s.name === name
        ? {
            ...s,
            version: spec.version,
            ...(spec.nodePools ? { nodePools: spec.nodePools.components } : {}),
            record,
          }
        : s,
    );
    startedWaves.add(wave);
  }
  for (const wave of startedWaves) {
    const progress = plan.waves.find((w) => w.name === wave);
    const before = progress ? previousWaves.get(progress.index) : undefined;
    if (before && before.state !== 'Pending') continue;
    const count = plan.start.filter((s) => s.wave === wave).length;
    await deps.events?.record(
      rollout,
      'Normal',
      'WaveStarted',
      'Rollout',
      `wave ${progress?.index ?? '?'} (${wave}): ${count} cluster(s) told ${spec.version}`,
    );
  }
  if (stale) return { requeueAfter: STALE_RECHECK_MS };

  // The status shows the world after the starts.
  const after = plan.start.length > 0 ? planFor(states) : plan;
  if (after.pauseAfterWave !== undefined) {
    try {
      await deps.client.patch(
        clusterRolloutType,
        { namespace, name: rollout.metadata.name ?? '' },
        PatchType.merge,
        {
          metadata: {
            resourceVersion: rollout.metadata.resourceVersion,
            annotations: {
              [PAUSED_AFTER_WAVE_ANNOTATION]: pausedAfterWaveValue(spec.version, after.pauseAfterWave),
            },
          },
          spec: { paused: true },
        },
      );
    } catch (error) {
      if (isConflict(error)) return { requeueAfter: STALE_RECHECK_MS };
      throw error;
    }
    await deps.events?.record(rollout, 'Normal', 'RolloutPaused', 'Pause', after.message);
    // The pause changed the object; its status is written on the next look, from the newer one.
    return { requeueAfter: STALE_RECHECK_MS };
  }

  const status = rolloutStatus(rollout.status, generation, after, now);
  if (!(await writeStatus(deps.client, rollout, status))) return { requeueAfter: STALE_RECHECK_MS };
  await recordTransitions(deps.events, rollout, rollout.status, status, after, log);

  if (after.phase === 'Succeeded' || after.phase === 'Failed' || after.phase === 'Pending') return;
  const untilWake = after.wakeAt === undefined ? Infinity : after.wakeAt - now.getTime() + 100;
  return { requeueAfter: Math.max(STALE_RECHECK_MS, Math.min(PROGRESS_RECHECK_MS, untilWake)) };
}

/** A merge patch guarded by the resourceVersion the decision was made on; false when that was stale. */
async function patchCluster(
  client: KubeClient,
  cluster: ClusterObject,
  patch: { metadata: object; spec?: object },
) {
  try {
    await client.patch(
      clusterType,
      { namespace: cluster.metadata.namespace, name: cluster.metadata.name ?? '' },
      PatchType.merge,
      { ...patch, metadata: { ...patch.metadata, resourceVersion: cluster.metadata.resourceVersion } },
    );
    return true;
  } catch (error) {
    if (isConflict(error) || isNotFound(error)) return false;
    throw error;
  }
}

/** Writes the status when it changed, nulling fields that went away; false when the cache was stale. */
async function writeStatus(
  client: KubeClient,
  rollout: ClusterRolloutObject,
  status: ClusterRolloutStatus,
): Promise<boolean> {
  if (contentHash(rollout.status ?? {}) === contentHash(status)) return true;
  const patch: Record<string, unknown> = { ...status };
  for (const key of Object.keys(rollout.status ?? {})) if (!(key in status)) patch[key] = null;
  try {
    await client.mergePatchStatus(
      clusterRolloutType,
      { namespace: rollout.metadata.namespace, name: rollout.metadata.name ?? '' },
      { metadata: { resourceVersion: rollout.metadata.resourceVersion }, status: patch },
    );
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/** One Event per transition a person wants to see, found by comparing the written status with the one before. */
async function recordTransitions(
  events: EventRecorder | undefined,
  rollout: ClusterRolloutObject,
  before: ClusterRolloutStatus | undefined,
  after: ClusterRolloutStatus,
  plan: ClusterRolloutPlan,
  log: Logger,
): Promise<void> {
  const previous = new Map((before?.waves ?? []).map((w) => [w.index, w] as const));
  for (const w of after.waves ?? []) {
    const was = previous.get(w.index)?.state;
    if (was === w.state || (w.state !== 'Succeeded' && w.state !== 'Failed')) continue;
    // A wave already finished when the rollout first looked (its clusters were at the version) is no news.
    if (w.clusters === 0 || was === undefined) continue;
    const note = `wave ${w.index} (${w.name}) finished: ${w.updated} of ${w.clusters} updated, ${w.failed} failed`;
    log.info({ wave: w.name, state: w.state }, 'wave finished');
    await events?.record(
      rollout,
      w.state === 'Failed' ? 'Warning' : 'Normal',
      'WaveFinished',
      'Rollout',
      note,
    );
  }
  if (after.phase === before?.phase) return;
  if (after.phase === 'Failed') {
    log.warn({ failed: plan.failed.map((f) => f.cluster) }, 'rollout stopped');
    await events?.record(
      rollout,
      'Warning',
      'RolloutFailed',
      'Rollout',
      `stopped: ${describeFailures(plan.failed)} (maxFailed ${rollout.spec.maxFailed ?? 0})`.slice(0, 1024),
    );
  } else if (after.phase === 'Succeeded') {
    log.info('rollout complete');
    await events?.record(rollout, 'Normal', 'RolloutSucceeded', 'Rollout', plan.message.slice(0, 1024));
  }
}
