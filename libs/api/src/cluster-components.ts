/**
 * What the kube-on-kube operator runs for a Cluster, in bring-up order: what
 * each component waits for and the condition that is its gate. Upgrades go
 * the same way (gate-plan.ts): a component is written only once everything it
 * depends on is Available at the desired version — etcd, then the apiserver,
 * then controller-manager and scheduler side by side.
 */
import { ClusterConditions } from './well-known.ts';

export type ClusterComponentName =
  | 'services'
  | 'networkPolicies'
  | 'pki'
  | 'etcd'
  | 'apiServer'
  | 'controllerManager'
  | 'scheduler'
  | 'nodeOperator';

export interface ClusterComponentOrder {
  name: ClusterComponentName;
  /** The Cluster condition this component reports, for the ones that are gates. */
  condition?: string;
  /** Components that must be Available at the desired version before this one is written. */
  dependsOn: readonly ClusterComponentName[];
  /** The binary (and image name) it runs, for the ones that run one of a version. */
  binary?: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
}

export const CLUSTER_COMPONENTS = {
  services: { name: 'services', dependsOn: [] },
  networkPolicies: { name: 'networkPolicies', dependsOn: [] },
  pki: { name: 'pki', dependsOn: ['services'] },
  etcd: {
    name: 'etcd',
    condition: ClusterConditions.EtcdAvailable,
    dependsOn: ['services', 'pki'],
    binary: 'etcd',
  },
  apiServer: {
    name: 'apiServer',
    condition: ClusterConditions.APIServerAvailable,
    dependsOn: ['etcd'],
    binary: 'kube-apiserver',
  },
  controllerManager: {
    name: 'controllerManager',
    condition: ClusterConditions.ControllerManagerAvailable,
    dependsOn: ['apiServer'],
    binary: 'kube-controller-manager',
  },
  scheduler: {
    name: 'scheduler',
    condition: ClusterConditions.SchedulerAvailable,
    dependsOn: ['apiServer'],
    binary: 'kube-scheduler',
  },
  nodeOperator: {
    name: 'nodeOperator',
    condition: ClusterConditions.NodeOperatorAvailable,
    dependsOn: ['apiServer'],
  },
} as const satisfies Readonly<Record<ClusterComponentName, ClusterComponentOrder>>;

/** The control plane in bring-up order; teardown walks it backwards. */
export const CONTROL_PLANE_ORDER: readonly ClusterComponentName[] = [
  'services',
  'networkPolicies',
  'pki',
  'etcd',
  'apiServer',
  'controllerManager',
  'scheduler',
];

/** Then the node tier, which never holds the control plane. */
export const NODE_TIER_ORDER: readonly ClusterComponentName[] = ['nodeOperator'];

/** `registry.k8s.io/etcd:3.6.16-0`: the registry tags etcd builds with a `-N` suffix. */
export function etcdImage(version: string): string {
  return `registry.k8s.io/etcd:${version.replace(/^v/, '')}-0`;
}

/** `registry.k8s.io/kube-apiserver:v1.36.3`. */
export function kubeImage(binary: string, version: string): string {
  return `registry.k8s.io/${binary}:${version}`;
}
