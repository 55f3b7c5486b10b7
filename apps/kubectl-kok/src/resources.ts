/** REST addresses of the kinds the plugin reads and writes: the kok kinds' from @kok/api, two built-in ones. */
import { builtinTypes, resourceType } from '@kok/reconcile';
import type { ResourceType } from '@kok/reconcile';
import type { V1ControllerRevision, V1Secret } from '@kubernetes/client-node';

export {
  clusterRolloutType,
  clusterType,
  machineType,
  nodePoolType,
  type ClusterObject,
  type ClusterRolloutObject,
  type MachineObject,
  type NodePoolObject,
} from '@kok/api';

export const secretType: ResourceType<V1Secret> = builtinTypes.secret;
export const controllerRevisionType = resourceType<V1ControllerRevision>(
  'apps/v1',
  'ControllerRevision',
  'controllerrevisions',
  true,
);
