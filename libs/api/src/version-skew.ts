/**
 * Kubernetes' version-skew policy between a kubelet and its apiserver: a
 * kubelet may lag the apiserver by up to three minors (since 1.28) and is
 * never newer. The node-operator holds a NodePool whose kubelet would break
 * it; `kubectl kok cluster plan` checks a control-plane version against the
 * kubelets that run.
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
