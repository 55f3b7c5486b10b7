/**
 * Which local binary stands in for a container image. Only the control-plane
 * images are known: `registry.k8s.io/etcd:3.6.16-0` → `etcd`,
 * `registry.k8s.io/kube-apiserver:v1.36.3` → `kube-apiserver`, and so on.
 */
export const knownBinaries = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type KnownBinary = (typeof knownBinaries)[number];

/** The binary for `image`, or undefined when the runtime cannot run it. */
export function binaryForImage(image: string): KnownBinary | undefined {
  // Strip the digest and the tag, then keep the last path segment: the repository name.
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const repository = lastSegment.split(':')[0] ?? '';
  return (knownBinaries as readonly string[]).includes(repository) ? (repository as KnownBinary) : undefined;
}
