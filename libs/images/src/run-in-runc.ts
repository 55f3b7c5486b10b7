/**
 * Runs one process of an OCI image tarball in a real container: the layers
 * unpacked into a root filesystem (read-only), the image config's entrypoint,
 * env, working directory and user, in new mount, pid, network, ipc and uts
 * namespaces, through Debian's runc. What a kubelet's containerd would do,
 * minus the image store, so an image can be proven to start where no cluster
 * runs. Needs root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ImageConfigFile {
  config: {
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string>;
  };
}

export interface UnpackedImage {
  /** The image config (what `docker inspect` calls Config is its `config`). */
  config: ImageConfigFile;
  /** The unpacked root filesystem. */
  rootfs: string;
  /** Removes everything unpacked. */
  remove(): void;
}

interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}

const blobPath = (layout: string, digest: string) => join(layout, 'blobs', ...digest.split(':'));

/** Unpacks the image in an OCI layout tarball (one manifest, as kok's packer writes). */
export function unpackImage(tarball: string): UnpackedImage {
  const dir = mkdtempSync(join(tmpdir(), 'kok-image-'));
  try {
    const layout = join(dir, 'layout');
    const rootfs = join(dir, 'rootfs');
    mkdirSync(layout);
    mkdirSync(rootfs);
    execFileSync('tar', ['-xf', tarball, '-C', layout]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    if (index.manifests.length !== 1 || !index.manifests[0])
      throw new Error(`${tarball} holds ${index.manifests.length} manifests; one expected`);
    const manifest = JSON.parse(
      readFileSync(blobPath(layout, index.manifests[0].digest), 'utf8'),
    ) as Manifest;
    for (const layer of manifest.layers)
      execFileSync('tar', ['-xf', blobPath(layout, layer.digest), '-C', rootfs]);
    const config = JSON.parse(
      readFileSync(blobPath(layout, manifest.config.digest), 'utf8'),
    ) as ImageConfigFile;
    rmSync(layout, { recursive: true });
    return { config, rootfs, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface ContainerRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the image's entrypoint with `args` (its Cmd when none are given), or `command` instead of the
 * entrypoint, in a container that is gone when this returns.
 */
export function runInContainer(
  image: UnpackedImage,
  options: { args?: readonly string[]; command?: readonly string[]; timeoutMs?: number } = {},
): ContainerRun {
  const { config } = image.config;
  const bundle = mkdtempSync(join(tmpdir(), 'kok-bundle-'));
  const state = join(bundle, 'state');
  const id = `kok-image-${process.pid}-${Date.now()}`;
  try {
    execFileSync('runc', ['spec', '--bundle', bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: Record<string, unknown>;
      root: Record<string, unknown>;
      hostname?: string;
    };
    const [uid = '0', gid = uid] = (config.User ?? '0').split(':');
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid))
      throw new Error(`image user "${config.User}" is not numeric uid:gid`);
    spec.process = {
      ...spec.process,
      terminal: false,
      args: [...(options.command ?? config.Entrypoint ?? []), ...(options.args ?? config.Cmd ?? [])],
      env: config.Env ?? [],
      cwd: config.WorkingDir || '/',
      user: { uid: Number(uid), gid: Number(gid) },
    };
    spec.root = { path: image.rootfs, readonly: true };
    spec.hostname = 'kok-image';
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const result = spawnSync('runc', ['--root', state, 'run', '--bundle', bundle, id], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    if (result.error) throw result.error;
    return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    spawnSync('runc', ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    rmSync(bundle, { recursive: true, force: true });
  }
}
