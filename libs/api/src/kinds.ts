/**
 * The kok kinds as the apiserver serves them (the schema's type with client-node's object envelope)
 * and their REST addresses: the one place for what every app, test and benchmark used to define
 * again. An address has the shape of @kok/reconcile's ResourceType, so a KubeClient or an Informer
 * takes it as it is (libs/api depends on no other lib). No schemas here: `@kok/api/core` exports it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cluster } from './cluster.ts';
import type { ClusterRollout } from './cluster-rollout.ts';
import type { Component } from './component.ts';
import type { Machine } from './machine.ts';
import type { NodePool } from './node-pool.ts';
import type { RemediationPolicy } from './remediation-policy.ts';
import { API_VERSION_V1ALPHA1, CLUSTERS_GROUP, NODES_GROUP } from './resource.ts';

export type ClusterObject = Cluster & KubernetesObject;
export type ClusterRolloutObject = ClusterRollout & KubernetesObject;
export type ComponentObject = Component & KubernetesObject;
export type MachineObject = Machine & KubernetesObject;
export type NodePoolObject = NodePool & KubernetesObject;
export type RemediationPolicyObject = RemediationPolicy & KubernetesObject;

/** Where objects of a kind live over REST: the shape of @kok/reconcile's ResourceType<T>. */
export interface KindAddress<T extends KubernetesObject> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Never set: carries T for inference only. */
  readonly _object?: T;
}

function address<T extends KubernetesObject>(
  group: string,
  kind: string,
  plural: string,
  scope: 'Cluster' | 'Namespaced',
): KindAddress<T> {
  return { apiVersion: `${group}/${API_VERSION_V1ALPHA1}`, kind, plural, namespaced: scope === 'Namespaced' };
}

export const clusterType = address<ClusterObject>(CLUSTERS_GROUP, 'Cluster', 'clusters', 'Namespaced');
export const clusterRolloutType = address<ClusterRolloutObject>(
  CLUSTERS_GROUP,
  'ClusterRollout',
  'clusterrollouts',
  'Namespaced',
);
export const componentType = address<ComponentObject>(NODES_GROUP, 'Component', 'components', 'Cluster');
export const machineType = address<MachineObject>(NODES_GROUP, 'Machine', 'machines', 'Cluster');
export const nodePoolType = address<NodePoolObject>(NODES_GROUP, 'NodePool', 'nodepools', 'Cluster');
export const remediationPolicyType = address<RemediationPolicyObject>(
  NODES_GROUP,
  'RemediationPolicy',
  'remediationpolicies',
  'Cluster',
);
