/** Typed access to the kok kinds the tests read and write. */
import {
  apiVersionOf,
  ClusterResource,
  ComponentResource,
  MachineResource,
  NodePoolResource,
} from '@kok/api';
import type { ClusterSpec, Component, Machine, NodePool } from '@kok/api';
import { resourceType } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';

export type MachineObject = Machine & KubernetesObject;
export type NodePoolObject = NodePool & KubernetesObject;

export const machineType = resourceType<MachineObject>(
  apiVersionOf(MachineResource),
  'Machine',
  MachineResource.plural,
  false,
);
export const nodePoolType = resourceType<NodePoolObject>(
  apiVersionOf(NodePoolResource),
  'NodePool',
  NodePoolResource.plural,
  false,
);
export const componentType = resourceType<Component & KubernetesObject>(
  apiVersionOf(ComponentResource),
  'Component',
  ComponentResource.plural,
  false,
);

export interface ClusterObject {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: ClusterSpec;
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    kubeconfigSecretRef?: { name: string; key: string };
    version?: { current?: string; desired?: string };
  };
}
export const clusterType = resourceType<ClusterObject & { apiVersion?: string; kind?: string }>(
  apiVersionOf(ClusterResource),
  'Cluster',
  ClusterResource.plural,
  true,
);
