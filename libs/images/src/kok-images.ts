/**
 * The images kok ships and runs, and how each is packed: the four apps on the
 * pinned Node.js (runtime layer, production packages, the app's own sources),
 * and one static binary each for the control-plane components (the etcd image
 * also etcdutl, for the operator's restore pods, as the upstream image holds it),
 * named as the kube-on-kube operator's version table names them (@kok/api
 * kubeImage, etcdImage). Same inputs, same digest (the packer writes no timestamps).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdImage, kubeImage } from '@kok/api';
import type { LayerEntry, OciImageOptions } from '@kok/host-rig';
import { packOciImage } from '@kok/host-rig';
import { parse } from 'yaml';
import { IMAGE_USER, NODE_IN_IMAGE, nodeRuntime } from './node-runtime.ts';
import { npmProductionTree, runtimePackageEntries, runtimePackages } from './workspace-files.ts';

/** Where the kok app images live: `<registry>/<app>:<release>`, what the charts default to. */
export const KOK_REGISTRY = 'ghcr.io/kok-dev';

/** Where the repository sits inside an app image. */
export const APP_ROOT = '/app';

export const KOK_APPS = ['kube-on-kube-operator', 'node-operator', 'node-agent', 'kubectl-kok'] as const;
export type KokApp = (typeof KOK_APPS)[number];

export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

export type KokImageName = KokApp | ControlPlaneBinary;
export const KOK_IMAGE_NAMES: readonly KokImageName[] = [...KOK_APPS, ...CONTROL_PLANE_BINARIES];

/**
 * The kube-on-kube-operator chart's controlPlaneImageDigests for the control-plane images among `built`:
 * reference → digest, what the operator's --image-digest takes. Empty when none was built.
 */
export function controlPlaneImageDigests(
  built: readonly { name: KokImageName; reference: string; digest: string }[],
): Record<string, string> {
  const controlPlane = new Set<string>(CONTROL_PLANE_BINARIES);
  return Object.fromEntries(
    built.filter((image) => controlPlane.has(image.name)).map((image) => [image.reference, image.digest]),
  );
}

export interface ImageInputs {
  repoRoot: string;
  /** The Node.js binary the app images carry. */
  nodeBinary: string;
  /** The directory holding the control-plane binaries, built for `kubernetesVersion` and `etcdVersion`. */
  binariesDir: string;
  kubernetesVersion: string;
  etcdVersion: string;
}

/** The release the kok images are tagged with: the kube-on-kube-operator chart's appVersion. */
export function kokRelease(repoRoot: string): string {
  const chart = parse(readFileSync(join(repoRoot, 'charts/kube-on-kube-operator/Chart.yaml'), 'utf8')) as {
    appVersion?: unknown;
  };
  if (typeof chart.appVersion !== 'string' || chart.appVersion === '')
    throw new Error('charts/kube-on-kube-operator/Chart.yaml has no appVersion');
  return chart.appVersion;
}

/** Splits `registry/path:tag` at its last colon (a registry port comes before a "/"). */
export function splitReference(reference: string): { name: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  if (colon <= reference.lastIndexOf('/')) throw new Error(`image reference ${reference} has no tag`);
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** The packer's options for image `name`; reads the files it names only when packed. */
export function imageOptions(name: KokImageName, inputs: ImageInputs): OciImageOptions {
  return (KOK_APPS as readonly string[]).includes(name)
    ? appImageOptions(name as KokApp, inputs)
    : controlPlaneImageOptions(name as ControlPlaneBinary, inputs);
}

/**
 * The machine's binaries an app image carries beside Node.js: the node agent's DaemonSet runs host commands
 * through nsenter (in the host's PID 1 mount namespace, where the host's own shell, tar and ctr run them).
 */
export const APP_TOOLS: Readonly<Record<KokApp, readonly string[]>> = {
  'kube-on-kube-operator': [],
  'node-operator': [],
  'node-agent': ['/usr/bin/nsenter'],
  'kubectl-kok': [],
};

function appImageOptions(app: KokApp, inputs: ImageInputs): OciImageOptions {
  const release = kokRelease(inputs.repoRoot);
  const runtime = nodeRuntime(inputs.nodeBinary, APP_TOOLS[app]);
  const packages = runtimePackages(npmProductionTree(inputs.repoRoot, `@kok/${app}`), `@kok/${app}`);
  const entries = runtimePackageEntries(packages, inputs.repoRoot, APP_ROOT);
  const isOwnSource = (entry: LayerEntry) => entry.path.startsWith(`${APP_ROOT}/apps/`);
  return {
    name: `${KOK_REGISTRY}/${app}`,
    tag: release,
    // Least to most often changed, so a new build of the app shares the lower layers' digests.
    layers: [
      runtime.entries,
      entries.filter((entry) => !isOwnSource(entry)),
      entries.filter((entry) => isOwnSource(entry)),
    ],
    config: {
      entrypoint: [NODE_IN_IMAGE, `${APP_ROOT}/apps/${app}/src/main.ts`],
      workingDir: `${APP_ROOT}/apps/${app}`,
      env: ['NODE_ENV=production', 'PATH=/usr/local/bin'],
      user: IMAGE_USER,
      labels: {
        'org.opencontainers.image.title': app,
        'org.opencontainers.image.version': release,
        'dev.kok.node-version': runtime.version,
      },
    },
  };
}

/** The binaries in a control-plane image: its own, and etcdutl beside etcd (`command: [etcdutl]` runs it). */
export function controlPlaneImageBinaries(binary: ControlPlaneBinary): readonly string[] {
  return binary === 'etcd' ? ['etcd', 'etcdutl'] : [binary];
}

function controlPlaneImageOptions(binary: ControlPlaneBinary, inputs: ImageInputs): OciImageOptions {
  const version = binary === 'etcd' ? inputs.etcdVersion : inputs.kubernetesVersion;
  const { name, tag } = splitReference(
    binary === 'etcd' ? etcdImage(inputs.etcdVersion) : kubeImage(binary, inputs.kubernetesVersion),
  );
  return {
    name,
    tag,
    layers: [
      [
        { type: 'directory', path: '/usr' },
        { type: 'directory', path: '/usr/local' },
        { type: 'directory', path: '/usr/local/bin' },
        ...controlPlaneImageBinaries(binary).map((file) => ({
          type: 'file' as const,
          path: `/usr/local/bin/${file}`,
          fromFile: join(inputs.binariesDir, file),
          mode: 0o755,
        })),
        { type: 'directory', path: '/tmp', mode: 0o1777 },
      ],
    ],
    config: {
      entrypoint: [`/usr/local/bin/${binary}`],
      // The operator's pods name the command (`command: [etcd]`): it is looked up on this PATH.
      env: ['PATH=/usr/local/bin'],
      user: IMAGE_USER,
      labels: {
        'org.opencontainers.image.title': binary,
        'org.opencontainers.image.version': version,
      },
    },
  };
}

export interface PackedKokImage {
  name: KokImageName;
  reference: string;
  digest: string;
  tarball: Buffer;
}

/** Packs image `name` (in memory: an app image is a few hundred MB). */
export function packKokImage(name: KokImageName, inputs: ImageInputs): PackedKokImage {
  const image = packOciImage(imageOptions(name, inputs));
  return { name, reference: image.reference, digest: image.digest, tarball: image.tarball };
}
