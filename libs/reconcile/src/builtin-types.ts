import type {
  CoreV1Event,
  EventsV1Event,
  V1ConfigMap,
  V1Deployment,
  V1Lease,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Secret,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1RoleBinding,
  V1Service,
} from '@kubernetes/client-node';
import { resourceType } from './resource-type.ts';

/** Resource types of the built-in kinds kok controllers use. CRDs: call resourceType(). */
export const builtinTypes = {
  configMap: resourceType<V1ConfigMap>('v1', 'ConfigMap', 'configmaps', true),
  secret: resourceType<V1Secret>('v1', 'Secret', 'secrets', true),
  namespace: resourceType<V1Namespace>('v1', 'Namespace', 'namespaces', false),
  node: resourceType<V1Node>('v1', 'Node', 'nodes', false),
  pod: resourceType<V1Pod>('v1', 'Pod', 'pods', true),
  service: resourceType<V1Service>('v1', 'Service', 'services', true),
  coreEvent: resourceType<CoreV1Event>('v1', 'Event', 'events', true),
  deployment: resourceType<V1Deployment>('apps/v1', 'Deployment', 'deployments', true),
  lease: resourceType<V1Lease>('coordination.k8s.io/v1', 'Lease', 'leases', true),
  event: resourceType<EventsV1Event>('events.k8s.io/v1', 'Event', 'events', true),
  clusterRole: resourceType<V1ClusterRole>('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  clusterRoleBinding: resourceType<V1ClusterRoleBinding>(
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    'clusterrolebindings',
    false,
  ),
  roleBinding: resourceType<V1RoleBinding>('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
} as const;
