import type { NodePoolTemplate } from '@kok/api';
import { kubeletVersionSkewProblem, MAX_KUBELET_MINOR_SKEW } from '@kok/api';

/** The component whose version the skew policy constrains. */
export const KUBELET = 'kubelet';

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
  return kubeletVersionSkewProblem(kubelet.version, apiServerVersion, maxSkew);
}
