/** REST coordinates of the kinds the operator reads and writes. */
import type {
  KubernetesObject,
  V1Deployment,
  V1ObjectMeta,
  V1PersistentVolumeClaim,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { apiVersionOf, ClusterResource } from '@kok/api';
import type { Cluster } from '@kok/api';
import type { ResourceType } from '@kok/reconcile';
import { builtinTypes, resourceType } from '@kok/reconcile';
import type { NetworkPolicy } from './components/network-policies.ts';

/** A Cluster as the apiserver serves it (client-node's metadata type). */
export type ClusterObject = Omit<Cluster, 'metadata'> & { metadata: V1ObjectMeta };

export const clusterType = resourceType<ClusterObject>(
  apiVersionOf(ClusterResource),
  ClusterResource.kind,
  ClusterResource.plural,
  true,
);

export const statefulSetType = resourceType<V1StatefulSet>('apps/v1', 'StatefulSet', 'statefulsets', true);
export const persistentVolumeClaimType = resourceType<V1PersistentVolumeClaim>(
  'v1',
  'PersistentVolumeClaim',
  'persistentvolumeclaims',
  true,
);

export const secretType: ResourceType<V1Secret> = builtinTypes.secret;
export const serviceType: ResourceType<V1Service> = builtinTypes.service;
export const deploymentType: ResourceType<V1Deployment> = builtinTypes.deployment;
export const networkPolicyType = resourceType<NetworkPolicy>(
  'networking.k8s.io/v1',
  'NetworkPolicy',
  'networkpolicies',
  true,
);

/** The type of an object the components render, by its kind. */
export function typeOfKind(kind: string | undefined): ResourceType<KubernetesObject> {
  const types: Record<string, ResourceType<KubernetesObject>> = {
    Secret: secretType as ResourceType<KubernetesObject>,
    Service: serviceType as ResourceType<KubernetesObject>,
    StatefulSet: statefulSetType as ResourceType<KubernetesObject>,
    Deployment: deploymentType as ResourceType<KubernetesObject>,
    NetworkPolicy: networkPolicyType as ResourceType<KubernetesObject>,
  };
  const type = kind ? types[kind] : undefined;
  if (!type) throw new Error(`the operator does not manage objects of kind ${kind ?? '(none)'}`);
  return type;
}
