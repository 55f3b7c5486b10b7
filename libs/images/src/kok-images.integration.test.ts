/**
 * `npm run images` end to end: the command packs every image, twice to the
 * same digests; each image's config is what the charts and the operator's
 * pods expect (non-root numeric user, entrypoint, labels, no shell); and every
 * image starts in a real container (runc), the apps answering --help.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedVersions } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KokImageName } from './kok-images.ts';
import {
  CONTROL_PLANE_BINARIES,
  controlPlaneImageBinaries,
  KOK_APPS,
  KOK_IMAGE_NAMES,
} from './kok-images.ts';
import { IMAGE_USER } from './node-runtime.ts';
import type { UnpackedImage } from './run-in-runc.ts';
import { runInContainer, unpackImage } from './run-in-runc.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = join(repoRoot, 'libs/images/src/build-images.ts');

interface BuiltImage {
  name: KokImageName;
  reference: string;
  digest: string;
  file: string;
  bytes: number;
}

const work = mkdtempSync(join(tmpdir(), 'kok-images-'));
const unpacked = new Map<KokImageName, UnpackedImage>();
let built: BuiltImage[];

/** Runs the command `npm run images` runs, into `out`, and returns its images.json. */
function buildImages(out: string): BuiltImage[] {
  const result = spawnSync(process.execPath, [buildScript, '--out', out], {
    encoding: 'utf8',
    cwd: repoRoot,
  });
  expect(result.stderr).not.toMatch(/\[images\] (?!\S+@sha256)/); // every line names an image and its digest
  expect(result.status).toBe(0);
  return JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as BuiltImage[];
}

const image = (name: KokImageName): UnpackedImage => {
  let found = unpacked.get(name);
  if (!found) {
    const file = built.find((each) => each.name === name)?.file;
    if (!file) throw new Error(`no image ${name} was built`);
    found = unpackImage(file);
    unpacked.set(name, found);
  }
  return found;
};

beforeAll(() => {
  built = buildImages(join(work, 'first'));
});

afterAll(() => {
  for (const each of unpacked.values()) each.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('npm run images', () => {
  it('packs every image, named as the charts and the version table name them, to the same digests twice', () => {
    const { kubernetes, etcd } = pinnedVersions();
    expect(built.map((each) => [each.name, each.reference])).toEqual([
      ['kube-on-kube-operator', 'ghcr.io/kok-dev/kube-on-kube-operator:0.1.0'],
      ['node-operator', 'ghcr.io/kok-dev/node-operator:0.1.0'],
      ['node-agent', 'ghcr.io/kok-dev/node-agent:0.1.0'],
      ['kubectl-kok', 'ghcr.io/kok-dev/kubectl-kok:0.1.0'],
      ['etcd', `registry.k8s.io/etcd:${etcd.replace(/^v/, '')}-0`],
      ['kube-apiserver', `registry.k8s.io/kube-apiserver:${kubernetes}`],
      ['kube-controller-manager', `registry.k8s.io/kube-controller-manager:${kubernetes}`],
      ['kube-scheduler', `registry.k8s.io/kube-scheduler:${kubernetes}`],
    ]);
    for (const each of built) expect(existsSync(each.file)).toBe(true);
    const again = buildImages(join(work, 'second'));
    expect(again.map((each) => [each.name, each.digest])).toEqual(
      built.map((each) => [each.name, each.digest]),
    );
    expect(new Set(built.map((each) => each.digest)).size).toBe(KOK_IMAGE_NAMES.length);
  });

  it('writes per chart the values that pin its images by digest', () => {
    const digestOf = (name: KokImageName) => built.find((each) => each.name === name)?.digest;
    const values = (chart: string) =>
      parse(readFileSync(join(work, 'first', `values-${chart}.yaml`), 'utf8')) as Record<string, unknown>;
    const versions = pinnedVersions();
    expect(values('kube-on-kube-operator')).toEqual({
      image: {
        repository: 'ghcr.io/kok-dev/kube-on-kube-operator',
        tag: '0.1.0',
        digest: digestOf('kube-on-kube-operator'),
      },
      // The control-plane images the operator runs, under the references its version table names.
      controlPlaneImageDigests: {
        [`registry.k8s.io/etcd:${versions.etcd.replace(/^v/, '')}-0`]: digestOf('etcd'),
        [`registry.k8s.io/kube-apiserver:${versions.kubernetes}`]: digestOf('kube-apiserver'),
        [`registry.k8s.io/kube-controller-manager:${versions.kubernetes}`]:
          digestOf('kube-controller-manager'),
        [`registry.k8s.io/kube-scheduler:${versions.kubernetes}`]: digestOf('kube-scheduler'),
      },
    });
    expect(values('node-operator')).toEqual({
      image: { repository: 'ghcr.io/kok-dev/node-operator', tag: '0.1.0', digest: digestOf('node-operator') },
      agent: {
        image: { repository: 'ghcr.io/kok-dev/node-agent', tag: '0.1.0', digest: digestOf('node-agent') },
      },
    });
  });

  it.each(KOK_APPS)('%s: runs as a numeric non-root user, on the pinned Node.js, without a shell', (app) => {
    const { config, rootfs } = image(app);
    expect(config.config).toMatchObject({
      User: IMAGE_USER,
      Entrypoint: ['/usr/local/bin/node', `/app/apps/${app}/src/main.ts`],
      WorkingDir: `/app/apps/${app}`,
      Labels: {
        'org.opencontainers.image.title': app,
        'org.opencontainers.image.version': '0.1.0',
        'dev.kok.node-version': execFileSync(join(repoRoot, 'node_modules/node/bin/node'), ['--version'], {
          encoding: 'utf8',
        }).trim(),
      },
    });
    expect(existsSync(join(rootfs, 'bin/sh'))).toBe(false);
    expect(existsSync(join(rootfs, 'usr/bin'))).toBe(false);
    // Tests and their fixtures stay out.
    expect(existsSync(join(rootfs, `app/apps/${app}/src/main.ts`))).toBe(true);
    expect(execFileSync('find', [join(rootfs, 'app/apps'), '-name', '*.test.ts'], { encoding: 'utf8' })).toBe(
      '',
    );
  });

  it.each(KOK_APPS)('%s: starts in a real container and prints its usage for --help', (app) => {
    const run = runInContainer(image(app), { args: ['--help'] });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/usage/i);
  });

  it("node-agent: carries nsenter, which runs there, for the DaemonSet's commands in the host's namespaces", () => {
    const run = runInContainer(image('node-agent'), { command: ['nsenter'], args: ['--version'] });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('nsenter from util-linux');
    expect(existsSync(join(image('kube-on-kube-operator').rootfs, 'usr/local/bin/nsenter'))).toBe(false);
  });

  it('runs its processes as the image user, in a read-only root', () => {
    const run = runInContainer(image('kube-on-kube-operator'), {
      command: [
        '/usr/local/bin/node',
        '-e',
        `const fs = require('node:fs');
         let readOnly = false;
         try { fs.writeFileSync('/app/x', ''); } catch (e) { readOnly = e.code === 'EROFS'; }
         console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), readOnly }));`,
      ],
      args: [],
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ uid: 65532, gid: 65532, readOnly: true });
  });

  it.each(CONTROL_PLANE_BINARIES)('%s: its static binaries, that start in a real container', (binary) => {
    const { config, rootfs } = image(binary);
    expect(config.config).toMatchObject({
      User: IMAGE_USER,
      Entrypoint: [`/usr/local/bin/${binary}`],
      Env: ['PATH=/usr/local/bin'],
    });
    expect(
      execFileSync('find', [rootfs, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').sort(),
    ).toEqual(controlPlaneImageBinaries(binary).map((file) => join(rootfs, 'usr/local/bin', file)));
    const { kubernetes, etcd } = pinnedVersions();
    const run = runInContainer(image(binary), { args: ['--version'] });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(binary === 'etcd' ? etcd.replace(/^v/, '') : kubernetes);
  });

  it("etcd: runs etcdutl when a container names it as command, as the operator's restore pods do", () => {
    const run = runInContainer(image('etcd'), { command: ['etcdutl'], args: ['version'] });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`etcdutl version: ${pinnedVersions().etcd.replace(/^v/, '')}`);
  });
});
