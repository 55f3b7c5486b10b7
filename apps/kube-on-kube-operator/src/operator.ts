/** Wiring: informers, the Cluster and ClusterRollout controllers and metrics on a reconcile Manager. */
import type { EtcdDialMode } from './etcd/member-observation.ts';
import { etcdObserver } from './etcd/member-observation.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ImageDigests } from '@kok/api';
import { apiVersionOf, ClusterResource, Labels } from '@kok/api';
import { Manager } from '@kok/reconcile';
import type { Logger } from 'pino';
import { addClusterRolloutController } from './cluster-rollout/controller.ts';
import { ClusterMetrics } from './metrics.ts';
import { MANAGED_SELECTOR, OPERATOR_NAME } from './names.ts';
import type { BizDialer, BizDialMode } from './node-api/biz-connection.ts';
import { NodeTier } from './node-api/node-tier.ts';
import type { PkiOptions } from './pki/pki-material.ts';
import { clusterReconciler } from './cluster/reconcile.ts';
import {
  clusterType,
  deploymentType,
  networkPolicyType,
  secretType,
  serviceType,
  statefulSetType,
} from './resource-types.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Watch Clusters in this namespace only. Default: all namespaces. */
  namespace?: string;
  /**
   * /metrics, /healthz, /readyz. Default port 8080 on all addresses; false turns it off. authorizeMetrics:
   * /metrics for apiserver-authorized bearer tokens only (see @kok/reconcile MetricsAccessReview).
   */
  http?: { host?: string; port?: number; authorizeMetrics?: boolean } | false;
  /** Run only while holding the Lease `kube-on-kube-operator` in this namespace. Default: no leader election. */
  leaderElectionNamespace?: string;
  /**
   * Requests per second to the meta-cluster apiserver (burst twice that). A
   * Cluster's bring-up is some 50 writes, so a fleet created at once needs room. Default 100.
   */
  kubeApiQps?: number;
  /** Clusters reconciled at once (never one Cluster twice at once). Default 4. */
  maxConcurrentReconciles?: number;
  /** See ClusterReconcilerDeps.progressDeadlineMs. Default 10 minutes. */
  progressDeadlineMs?: number;
  /** Default: PKI defaults (see pki-material.ts). */
  pki?: PkiOptions;
  /**
   * How biz apiservers are reached to install the node API (node-api/biz-connection.ts):
   * `endpoint` dials status.endpoint (resolves inside the meta-cluster), `pod-ip` a Ready
   * apiserver pod; tests may pass their own. Default `endpoint`.
   */
  bizApiServerDial?: BizDialMode | BizDialer;
  /** How etcd members are reached (etcd/member-observation.ts EtcdDialMode). Default `endpoint`. */
  etcdDial?: EtcdDialMode;
  /** Where etcd snapshots are written (etcd/snapshots.ts). Default: none taken. */
  etcdSnapshotDir?: string;
  /** Control-plane images run by digest (--image-digest). Default: every image by its tag. */
  imageDigests?: ImageDigests;
  logger: Logger;
}

export function createOperator(options: OperatorOptions): Manager {
  const manager = new Manager({
    kubeConfig: options.kubeConfig,
    client: {
      fieldManager: OPERATOR_NAME,
      userAgent: OPERATOR_NAME,
      qps: options.kubeApiQps ?? 100,
      burst: 2 * (options.kubeApiQps ?? 100),
    },
    logger: options.logger,
    ...(options.http === undefined ? {} : { http: options.http }),
    ...(options.leaderElectionNamespace
      ? { leaderElection: { namespace: options.leaderElectionNamespace, name: OPERATOR_NAME } }
      : {}),
  });
  const scope = options.namespace ? { namespace: options.namespace } : {};
  // Owned objects are selected by the managed-by label: the caches hold nothing else.
  const owned = { ...scope, labelSelector: MANAGED_SELECTOR };
  const caches = {
    clusters: manager.informer(clusterType, scope),
    secrets: manager.informer(secretType, owned),
    services: manager.informer(serviceType, owned),
    deployments: manager.informer(deploymentType, owned),
    statefulSets: manager.informer(statefulSetType, owned),
    networkPolicies: manager.informer(networkPolicyType, owned),
  };
  const owner = { apiVersion: apiVersionOf(ClusterResource), kind: ClusterResource.kind };
  const events = manager.eventRecorder(`kok.dev/${OPERATOR_NAME}`);
  manager
    .controller({
      name: 'cluster',
      reconcile: clusterReconciler({
        client: manager.client,
        caches,
        metrics: new ClusterMetrics(manager.metrics.registry, caches.clusters),
        ...(options.pki ? { pki: options.pki } : {}),
        ...(options.progressDeadlineMs ? { progressDeadlineMs: options.progressDeadlineMs } : {}),
        events,
        nodeTier: new NodeTier(manager.client, events, { dial: options.bizApiServerDial ?? 'endpoint' }),
        etcdObserver: etcdObserver(manager.client, options.etcdDial ?? 'endpoint'),
        ...(options.etcdSnapshotDir ? { etcdSnapshotDir: options.etcdSnapshotDir } : {}),
        ...(options.imageDigests ? { imageDigests: options.imageDigests } : {}),
      }),
      maxConcurrentReconciles: options.maxConcurrentReconciles ?? 4,
    })
    .watchPrimary(caches.clusters)
    .watchOwned(caches.secrets, owner)
    // A Secret restored from a backup has no owner yet, only the Cluster's label: it is adopted at once.
    .watchMapped(caches.secrets, (secret) => {
      const cluster = secret.metadata?.labels?.[Labels.cluster];
      const owned = secret.metadata?.ownerReferences?.some((ref) => ref.controller) ?? false;
      return cluster && !owned ? [{ namespace: secret.metadata?.namespace, name: cluster }] : [];
    })
    .watchOwned(caches.services, owner)
    .watchOwned(caches.deployments, owner)
    .watchOwned(caches.statefulSets, owner)
    .watchOwned(caches.networkPolicies, owner);
  addClusterRolloutController(manager, {
    clusters: caches.clusters,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    eventSource: `kok.dev/${OPERATOR_NAME}`,
  });
  return manager;
}
