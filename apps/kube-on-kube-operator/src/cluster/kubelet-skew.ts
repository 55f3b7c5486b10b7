/**
 * A Cluster's minor upgrade waits for its kubelets: before anything is
 * written at a newer minor, the biz-cluster's Nodes are read (observe.ts) and
 * the upgrade holds while a kubelet would break the skew policy with an
 * apiserver at the new version, or while the Nodes cannot be read. Checked
 * only before the upgrade begins: once something was written at the new minor,
 * holding would freeze a half-done upgrade and keep its progress deadline (the
 * rollback) from ever firing. Pure.
 */
import {
  isNewerMinor,
  KUBELET_VERSION_SKEW,
  KUBELET_VERSIONS_UNKNOWN,
  kubeletSkewChecks,
  MAX_KUBELET_MINOR_SKEW,
} from '@kok/api';
import type { ClusterStatus, KubeletsObserved } from '@kok/api';
import type { Hold } from './guards.ts';

/** While kubelets hold an upgrade: look again this often, as upgrading or removing a Node brings no event here. */
export const KUBELET_SKEW_RECHECK_MS = 30_000;
/** The hold's message names at most this many Nodes, then counts the rest. */
export const NAMED_NODES = 5;

/**
 * The kubelets must be checked before this pass writes: `targetVersion` is a
 * newer minor than the one the control plane runs (status.version.current),
 * and the upgrade to it has not begun (status.version.desired, which the first
 * pass that writes for it sets, is still an older minor). A first bring-up,
 * a patch change, a version the Cluster already moves to, and a rollback
 * (which comes only after writes began) are never checked.
 */
export function kubeletCheckDue(status: ClusterStatus | undefined, targetVersion: string): boolean {
  const running = status?.version?.current;
  if (running === undefined || !isNewerMinor(running, targetVersion)) return false;
  const begun = status?.version?.desired;
  return begun === undefined || isNewerMinor(begun, targetVersion);
}

export interface KubeletSkewInputs {
  status: ClusterStatus | undefined;
  targetVersion: string;
  /** The biz-cluster's Nodes, read when the check is due (observe-kubelets.ts). */
  kubelets: KubeletsObserved | undefined;
  /** The operator installed its node tier in the biz-cluster (node-api/node-tier.ts records it on the Cluster). */
  nodeTierInstalled: boolean;
  maxSkew?: number;
}

/** Why the upgrade may not start yet, or undefined when it may (or no check is due). */
export function kubeletSkewHold(inputs: KubeletSkewInputs): Hold | undefined {
  const { status, targetVersion, nodeTierInstalled, maxSkew = MAX_KUBELET_MINOR_SKEW } = inputs;
  if (!kubeletCheckDue(status, targetVersion)) return undefined;
  const running = status?.version?.current ?? '';
  const stays = `the control plane stays at ${running}`;
  const kubelets = inputs.kubelets ?? { readable: false, reason: 'they were not read' };
  if (!kubelets.readable)
    // No node tier installed: this operator never reached the biz-cluster, and holding would bar every minor upgrade.
    return nodeTierInstalled
      ? {
          reason: KUBELET_VERSIONS_UNKNOWN,
          message:
            `the upgrade to ${targetVersion} waits: the biz-cluster's Nodes could not be read to check their ` +
            `kubelets against it (${kubelets.reason}); ${stays} until they can be`,
          requeueAfter: KUBELET_SKEW_RECHECK_MS,
        }
      : undefined;
  // A Node whose kubelet never reported a version runs no kubelet that could break the policy.
  const reported = kubelets.nodes.filter((n) => n.kubeletVersion !== '');
  const outside = kubeletSkewChecks(reported, targetVersion, maxSkew).filter((c) => c.problem !== undefined);
  if (outside.length === 0) return undefined;
  const named = outside.slice(0, NAMED_NODES).map((c) => `${c.node} (${c.kubeletVersion})`);
  const rest = outside.length - named.length;
  return {
    reason: KUBELET_VERSION_SKEW,
    message:
      `the upgrade to ${targetVersion} waits: ${outside.length} of ${reported.length} kubelets are outside the ` +
      `skew policy of an apiserver at ${targetVersion} (a kubelet may be at most ${maxSkew} minor versions ` +
      `older, never newer): ${named.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}; ${stays} until ` +
      `those kubelets are upgraded or their Nodes are gone`,
    requeueAfter: KUBELET_SKEW_RECHECK_MS,
  };
}
