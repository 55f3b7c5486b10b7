import type { NodePoolTemplate } from '@kok/api';

/** The component whose version the skew policy constrains. */
export const KUBELET = 'kubelet';

/** How many minor versions a kubelet may lag the apiserver (Kubernetes' skew policy since 1.28). */
export const MAX_KUBELET_MINOR_SKEW = 3;

interface MinorVersion {
  major: number;
  minor: number;
}

/** `v1.36.3`, `1.36`, `v1.36.0-rc.1+abc` → { major 1, minor 36 }; undefined when it is not a version. */
export function parseMinorVersion(version: string): MinorVersion | undefined {
  const match = /^v?(\d+)\.(\d+)(?:[.\-+].*)?$/.exec(version.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/**
 * Why rolling `template` out would break the version-skew policy, or undefined
 * when it would not: a kubelet newer (by minor) than the apiserver, or more
 * than `maxSkew` minors older. A template without a kubelet is never blocked.
 */
export function kubeletSkewProblem(
  template: NodePoolTemplate,
  apiServerVersion: string,
  maxSkew = MAX_KUBELET_MINOR_SKEW,
): string | undefined {
  const kubelet = template.components?.find((component) => component.name === KUBELET);
  if (!kubelet) return undefined;
  const server = parseMinorVersion(apiServerVersion);
  if (!server)
    return `cannot check version skew: the apiserver reports version ${JSON.stringify(apiServerVersion)}`;
  const wanted = parseMinorVersion(kubelet.version);
  if (!wanted)
    return `kubelet version ${JSON.stringify(kubelet.version)} is not a Kubernetes version like v1.36.3`;
  const behind = (server.major - wanted.major) * 1000 + (server.minor - wanted.minor);
  if (behind < 0)
    return `kubelet ${kubelet.version} is newer than the apiserver ${apiServerVersion}; upgrade the control plane first`;
  if (behind > maxSkew)
    return `kubelet ${kubelet.version} is ${behind} minor versions older than the apiserver ${apiServerVersion} (at most ${maxSkew} allowed); roll out a newer kubelet`;
  return undefined;
}
