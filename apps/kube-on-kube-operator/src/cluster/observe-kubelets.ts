/**
 * The observe step's one read of a biz-cluster: the kubelet version of each of
 * its Nodes, read only while a minor upgrade waits to begin
 * (kubelet-skew.ts decides when, and what the versions mean). A list of every
 * Node is costly, so no other pass reads it.
 */
import type { KubeletsObserved } from '@kok/api';
import type { NodeTier } from '../node-api/node-tier.ts';
import { kubeletCheckDue } from './kubelet-skew.ts';
import type { ObservedCluster } from './observe.ts';

/** `observed` with the biz-cluster's kubelets when the check is due; as it is otherwise. */
export async function observeKubelets(
  observed: ObservedCluster,
  nodeTier: Pick<NodeTier, 'readKubelets'> | undefined,
  at: Date,
): Promise<ObservedCluster> {
  const { cluster, resolved, names, endpoint, pki } = observed;
  if (!kubeletCheckDue(cluster.status, resolved.version)) return observed;
  const kubelets: KubeletsObserved = nodeTier
    ? await nodeTier.readKubelets({ names, endpoint, caSecret: pki?.found.get(names.secrets.ca), now: at })
    : { readable: false, reason: 'this operator runs without a node tier, so it reaches no biz-cluster' };
  return { ...observed, kubelets };
}
