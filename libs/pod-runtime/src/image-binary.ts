/**
 * Which local binary stands in for a container image. The control-plane
 * images are known: `registry.k8s.io/etcd:3.6.16-0` → `etcd`,
 * `registry.k8s.io/kube-apiserver:v1.36.3` → `kube-apiserver`, and so on;
 * callers may add their own (the tag is ignored: one local build per name).
 */
import { join } from 'node:path';

export const knownBinaries = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type KnownBinary = (typeof knownBinaries)[number];

/** The repository name of an image: its last path segment without tag or digest. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  return lastSegment.split(':')[0] ?? '';
}

/** The binary for `image`, or undefined when the runtime cannot run it. */
export function binaryForImage(image: string): KnownBinary | undefined {
  const repository = imageName(image);
  return (knownBinaries as readonly string[]).includes(repository) ? (repository as KnownBinary) : undefined;
}

/**
 * Images the runtime can run besides the control-plane binaries, by
 * repository name: the command line that stands in for the image's
 * entrypoint, e.g. `node-operator` → `node apps/node-operator/src/main.ts`.
 */
export type ExtraImages = Readonly<Record<string, readonly [string, ...string[]]>>;

/** What runs a container of `image`: its name (for logs and bind rules) and the local command line. */
export interface ImageCommand {
  readonly name: string;
  readonly argv: readonly [string, ...string[]];
}

export function commandForImage(
  image: string,
  binDir: string,
  extra: ExtraImages = {},
): ImageCommand | undefined {
  const binary = binaryForImage(image);
  if (binary) return { name: binary, argv: [join(binDir, binary)] };
  const name = imageName(image);
  const argv = Object.hasOwn(extra, name) ? extra[name] : undefined;
  return argv ? { name, argv } : undefined;
}
