/**
 * `npm run images [-- --out <dir>] [name...]`: packs kok's images as OCI image
 * tarballs (`<out>/<name>.oci.tar`, default out `dist/images`), then writes
 * what they are (`images.json`: reference, digest, bytes) and, per chart, a
 * values file that pins the chart's images by digest
 * (`helm install -f <out>/values-node-operator.yaml`); the kube-on-kube-operator's
 * also pins the control-plane images it runs (controlPlaneImageDigests). Import a tarball with
 * `ctr -n k8s.io images import <file>`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBinaries, pinnedVersions } from '@kok/testing';
import { stringify } from 'yaml';
import type { KokImageName } from './kok-images.ts';
import { controlPlaneImageDigests, KOK_IMAGE_NAMES, packKokImage, splitReference } from './kok-images.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface BuiltImage {
  name: KokImageName;
  reference: string;
  digest: string;
  file: string;
  bytes: number;
}

/** What each chart's values file pins: the chart's value path → the image. */
const CHART_IMAGES: Record<string, Record<string, KokImageName>> = {
  'kube-on-kube-operator': { image: 'kube-on-kube-operator' },
  'node-operator': { image: 'node-operator', 'agent.image': 'node-agent' },
};

function usage(): string {
  return `usage: npm run images -- [--out <dir>] [${KOK_IMAGE_NAMES.join('|')} ...]\n`;
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string', default: join(repoRoot, 'dist/images') }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage());
    return;
  }
  const unknown = positionals.filter((name) => !(KOK_IMAGE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`no image named ${unknown.join(', ')}\n${usage()}`);
  const names = positionals.length > 0 ? (positionals as KokImageName[]) : KOK_IMAGE_NAMES;
  const out = resolve(values.out);
  const versions = pinnedVersions();
  const inputs = {
    repoRoot,
    nodeBinary: join(repoRoot, 'node_modules/node/bin/node'),
    binariesDir: ensureBinaries(),
    kubernetesVersion: versions.kubernetes,
    etcdVersion: versions.etcd,
  };
  mkdirSync(out, { recursive: true });
  const built: BuiltImage[] = [];
  for (const name of names) {
    const started = Date.now();
    const image = packKokImage(name, inputs);
    const file = join(out, `${name}.oci.tar`);
    writeFileSync(file, image.tarball);
    built.push({ name, reference: image.reference, digest: image.digest, file, bytes: image.tarball.length });
    process.stderr.write(
      `[images] ${image.reference}@${image.digest} ${(image.tarball.length / 2 ** 20).toFixed(1)} MiB ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s → ${relative(process.cwd(), file)}\n`,
    );
  }
  writeFileSync(join(out, 'images.json'), `${JSON.stringify(built, null, 2)}\n`);
  for (const [chart, paths] of Object.entries(CHART_IMAGES)) {
    const values = chartValues(paths, built);
    // The operator runs the control-plane images it was built beside by digest too.
    const pinned = controlPlaneImageDigests(built);
    if (values && chart === 'kube-on-kube-operator' && Object.keys(pinned).length > 0)
      values['controlPlaneImageDigests'] = pinned;
    if (values) writeFileSync(join(out, `values-${chart}.yaml`), stringify(values));
  }
}

/** The values that pin `paths` by digest, or nothing when not every image of the chart was built. */
function chartValues(
  paths: Record<string, KokImageName>,
  built: readonly BuiltImage[],
): Record<string, unknown> | undefined {
  const values: Record<string, unknown> = {};
  for (const [path, name] of Object.entries(paths)) {
    const image = built.find((each) => each.name === name);
    if (!image) return undefined;
    const { name: repository, tag } = splitReference(image.reference);
    let target = values;
    const keys = path.split('.');
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys[keys.length - 1] as string] = { repository, tag, digest: image.digest };
  }
  return values;
}

try {
  main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`[images] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
