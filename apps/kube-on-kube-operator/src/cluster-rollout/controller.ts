/** Wiring of the ClusterRollout controller onto the operator's Manager. */
import type { Informer, Manager } from '@kok/reconcile';
import type { ClusterObject } from '../resource-types.ts';
import { clusterRolloutType, reconcileClusterRollout, rolloutsOfCluster } from './reconcile-rollout.ts';

export interface ClusterRolloutControllerOptions {
  /** The operator's Cluster informer (shared with the Cluster controller). */
  clusters: Informer<ClusterObject>;
  /** Watch ClusterRollouts in this namespace only. Default: all namespaces. */
  namespace?: string;
  /** reportingController of the Events. */
  eventSource: string;
}

/** Reconciles ClusterRollouts, and again whenever a Cluster one of them selects (or started) changes. */
export function addClusterRolloutController(
  manager: Manager,
  options: ClusterRolloutControllerOptions,
): void {
  const rollouts = manager.informer(
    clusterRolloutType,
    options.namespace ? { namespace: options.namespace } : {},
  );
  const deps = {
    client: manager.client,
    caches: { rollouts, clusters: options.clusters },
    events: manager.eventRecorder(options.eventSource),
  };
  manager
    .controller({
      name: 'clusterrollout',
      reconcile: (request, ctx) => reconcileClusterRollout(deps, request, ctx.log),
      // Rollouts are few and each reads its clusters from the cache.
      maxConcurrentReconciles: 2,
    })
    .watchPrimary(rollouts)
    .watchMapped(options.clusters, (cluster) => rolloutsOfCluster(rollouts, cluster));
}
