/** REST addresses of the kinds the plugin reads and writes. */
import {
  apiVersionOf,
  ClusterResource,
  ClusterRolloutResource,
  MachineResource,
  NodePoolResource,
} from '@kok/api';
import type { Cluster, ClusterRollout, Machine, NodePool, ResourceDefinition } from '@kok/api';
import { builtinTypes, resourceType } from '@kok/reconcile';
import type { ResourceType } from '@kok/reconcile';
import type { KubernetesObject, V1ControllerRevision, V1Secret } from '@kubernetes/client-node';

function typeOf<T>(resource: ResourceDefinition): ResourceType<T & KubernetesObject> {
  return resourceType<T & KubernetesObject>(
    apiVersionOf(resource),
    resource.kind,
    resource.plural,
    resource.scope === 'Namespaced',
  );
}

export const clusterType = typeOf<Cluster>(ClusterResource);
export const nodePoolType = typeOf<NodePool>(NodePoolResource);
export const machineType = typeOf<Machine>(MachineResource);
export const clusterRolloutType = typeOf<ClusterRollout>(ClusterRolloutResource);
export const secretType: ResourceType<V1Secret> = builtinTypes.secret;
export const controllerRevisionType = resourceType<V1ControllerRevision>(
  'apps/v1',
  'ControllerRevision',
  'controllerrevisions',
  true,
);

export type ClusterObject = Cluster & KubernetesObject;
export type ClusterRolloutObject = ClusterRollout & KubernetesObject;
export type NodePoolObject = NodePool & KubernetesObject;
export type MachineObject = Machine & KubernetesObject;
