/**
 * Which local binary stands in for a container image. The control-plane
 * images are known: `registry.k8s.io/etcd:3.6.16-0` → `etcd`,
 * `registry.k8s.io/kube-apiserver:v1.36.3` → `kube-apiserver`, and so on.
 * A Kubernetes image tagged with a version runs the build of that version:
 * the build cache keeps one directory per version (`<cache>/bin/v1.36.3`,
 * `<cache>/bin/v1.35.4`), so a binDir named after a version has its other
 * versions beside it. A binDir named otherwise (binaries the user brought)
 * holds one build per name, whatever the tag. A known image may hold more
 * than its binary: a container of the etcd image whose command is `etcdutl`
 * runs the local etcdutl, as the real image holds it beside etcd. Callers may
 * add their own images (the tag is ignored).
 */
import { basename, dirname, join } from 'node:path';

export const knownBinaries = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type KnownBinary = (typeof knownBinaries)[number];

/** The other binaries a known image holds, run when a container's command names one of them. */
const imageTools: Readonly<Partial<Record<KnownBinary, readonly string[]>>> = { etcd: ['etcdutl'] };

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

/** v1.36.3, and versions with a suffix (v1.36.4-rc.0): each is a build of its own. */
const KUBERNETES_VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The tag of an image reference, if it has one (a registry port is not a tag). */
export function imageTag(image: string): string | undefined {
  const lastSegment = (image.split('@')[0] ?? '').split('/').pop() ?? '';
  const colon = lastSegment.indexOf(':');
  return colon < 0 ? undefined : lastSegment.slice(colon + 1);
}

/** Where the build of `image`'s version lives: binDir, or its sibling named after the image's version tag. */
function versionDir(image: string, binDir: string): string {
  const tag = imageTag(image);
  const own = basename(binDir);
  if (tag === undefined || !KUBERNETES_VERSION.test(tag) || !KUBERNETES_VERSION.test(own) || tag === own)
    return binDir;
  return join(dirname(binDir), tag);
}

/**
 * The command for a container of `image` whose `command` is given, or undefined when nothing stands
 * in for it. The binary of a Kubernetes version may not be built: the caller checks that the file exists.
 */
export function commandForImage(
  image: string,
  binDir: string,
  extra: ExtraImages = {},
  command: readonly string[] = [],
): ImageCommand | undefined {
  const binary = binaryForImage(image);
  if (binary) {
    const named = command[0] === undefined ? undefined : basename(command[0]);
    const tool = named !== undefined && imageTools[binary]?.includes(named) ? named : binary;
    return { name: tool, argv: [join(versionDir(image, binDir), tool)] };
  }
  const name = imageName(image);
  const argv = Object.hasOwn(extra, name) ? extra[name] : undefined;
  return argv ? { name, argv } : undefined;
}
