/**
 * Kubernetes' version-skew policy between a kubelet and its apiserver: a
 * kubelet may lag the apiserver by up to three minors (since 1.28) and is
 * never newer. The node-operator holds a NodePool whose kubelet would break
 * it; the kube-on-kube operator holds a Cluster's minor upgrade while a
 * running kubelet would, and `kubectl kok cluster plan` previews the same
 * check of the kubelets that run.
 */
import { parseMinorVersion } from './kubernetes-version.ts';

/** How many minor versions a kubelet may lag the apiserver (Kubernetes' skew policy since 1.28). */
export const MAX_KUBELET_MINOR_SKEW = 3;

/**
 * Why a kubelet at `kubeletVersion` and an apiserver at `apiServerVersion`
 * break the skew policy, or undefined when they do not: a kubelet newer (by
 * minor) than the apiserver, or more than `maxSkew` minors older.
 */
export function kubeletVersionSkewProblem(
  kubeletVersion: string,
  apiServerVersion: string,
  maxSkew = MAX_KUBELET_MINOR_SKEW,
): string | undefined {
  const server = parseMinorVersion(apiServerVersion);
  if (!server)
    return `cannot check version skew: the apiserver reports version ${JSON.stringify(apiServerVersion)}`;
  const wanted = parseMinorVersion(kubeletVersion);
  if (!wanted)
    return `kubelet version ${JSON.stringify(kubeletVersion)} is not a Kubernetes version like v1.36.3`;
  const behind = (server.major - wanted.major) * 1000 + (server.minor - wanted.minor);
  if (behind < 0)
    return `kubelet ${kubeletVersion} is newer than the apiserver ${apiServerVersion}; upgrade the control plane first`;
  if (behind > maxSkew)
    return `kubelet ${kubeletVersion} is ${behind} minor versions older than the apiserver ${apiServerVersion} (at most ${maxSkew} allowed); roll out a newer kubelet`;
  return undefined;
}

/** A Node of a biz-cluster and the kubelet version it reports (status.nodeInfo.kubeletVersion). */
export interface NodeKubelet {
  node: string;
  kubeletVersion: string;
}

/** What was read of a biz-cluster's Nodes, or why they could not be read. */
export type KubeletsObserved =
  { readable: true; nodes: readonly NodeKubelet[] } | { readable: false; reason: string };

export interface KubeletSkewCheck extends NodeKubelet {
  /** Why this kubelet and an apiserver at the checked version break the skew policy; undefined when they do not. */
  problem?: string;
}

/** Every Node's kubelet checked against an apiserver at `apiServerVersion`, by Node name. */
export function kubeletSkewChecks(
  nodes: readonly NodeKubelet[],
  apiServerVersion: string,
  maxSkew = MAX_KUBELET_MINOR_SKEW,
): KubeletSkewCheck[] {
  return [...nodes]
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map(({ node, kubeletVersion }) => {
      const problem = kubeletVersionSkewProblem(kubeletVersion, apiServerVersion, maxSkew);
      return { node, kubeletVersion, ...(problem === undefined ? {} : { problem }) };
    });
}

/** Degraded and Progressing reason of a Cluster whose minor upgrade waits for kubelets outside the skew policy of it. */
export const KUBELET_VERSION_SKEW = 'KubeletVersionSkew';
/** Degraded and Progressing reason of a Cluster whose minor upgrade waits because its kubelets could not be read. */
export const KUBELET_VERSIONS_UNKNOWN = 'KubeletVersionsUnknown';
