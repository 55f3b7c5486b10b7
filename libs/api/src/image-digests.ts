/**
 * Digests the operator pins its control-plane images to: a tag says which
 * release, the digest says which bytes, so a registry that moves a tag cannot
 * change what a Cluster runs. Keyed by the reference the version table names
 * (kubeImage, etcdImage); an image without an entry runs by its tag.
 */
export type ImageDigests = ReadonlyMap<string, string>;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `registry.k8s.io/kube-apiserver:v1.36.3@sha256:…` → [reference, digest]; a clear error for anything else. */
export function parseImageDigest(pinned: string): [reference: string, digest: string] {
  const at = pinned.lastIndexOf('@');
  const reference = at < 0 ? pinned : pinned.slice(0, at);
  const digest = at < 0 ? '' : pinned.slice(at + 1);
  const lastSegment = reference.split('/').pop() ?? '';
  if (!DIGEST.test(digest) || !lastSegment.includes(':'))
    throw new Error(
      `"${pinned}" is not <image>:<tag>@sha256:<64 hex digits>, e.g. registry.k8s.io/kube-apiserver:v1.36.3@sha256:… ` +
        '(npm run images prints each image it built that way)',
    );
  return [reference, digest];
}

/** `reference` pinned to its digest when `digests` has one, else as it is. */
export function pinnedImage(reference: string, digests: ImageDigests | undefined): string {
  const digest = digests?.get(reference);
  return digest ? `${reference}@${digest}` : reference;
}
