import { apiVersionOf, ClusterResource, MachineResource, NodePoolResource } from '@kok/api';
import type { Target } from '../api-error-messages.ts';

export function clusterTarget(name: string | undefined, namespace: string | undefined): Target {
  return {
    kind: 'Cluster',
    apiVersion: apiVersionOf(ClusterResource),
    plural: ClusterResource.plural,
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}

export function nodePoolTarget(name: string): Target {
  return {
    kind: 'NodePool',
    apiVersion: apiVersionOf(NodePoolResource),
    plural: NodePoolResource.plural,
    name,
  };
}

export function machineTarget(name?: string): Target {
  return {
    kind: 'Machine',
    apiVersion: apiVersionOf(MachineResource),
    plural: MachineResource.plural,
    ...(name === undefined ? {} : { name }),
  };
}
