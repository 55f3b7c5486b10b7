import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore, ChecksumMismatchError } from './artifact-store.ts';
import { sha256Of, TEMP_PREFIX } from './atomic-file.ts';
import { startArtifactServer } from './fixtures/artifact-server.ts';
import type { ArtifactServer } from './fixtures/artifact-server.ts';
import { containerdArtifact } from './fixtures/build-artifacts.ts';
import { hostPaths } from './host-paths.ts';
import type { HostPaths } from './host-paths.ts';

let root: string;
let artifactsDir: string;
let server: ArtifactServer;
let paths: HostPaths;
const archive = { method: 'Archive', path: '/usr/local/lib/containerd' } as const;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'kok-store-'));
  artifactsDir = mkdtempSync(join(tmpdir(), 'kok-store-artifacts-'));
  server = await startArtifactServer(artifactsDir);
  paths = hostPaths(root);
});
afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(artifactsDir, { recursive: true, force: true });
});

function artifact(version: string) {
  const built = containerdArtifact(artifactsDir, version);
  return { url: server.urlOf(built.name), sha256: built.sha256 };
}

describe('artifact store', () => {
  it('unpacks a verified archive into opt/kok/<component>/<version> and points current and the install path at it', async () => {
    const store = new ArtifactStore(paths);
    await store.install('containerd', '1.7.21', artifact('1.7.21'), archive);
    await store.activate('containerd', '1.7.21', archive);
    expect(readdirSync(paths.versionDir('containerd', '1.7.21')).sort()).toEqual(['containerd', 'ctr']);
    expect(readlinkSync(paths.currentLink('containerd'))).toBe('1.7.21');
    expect(readlinkSync(paths.host('/usr/local/lib/containerd'))).toBe('../../../opt/kok/containerd/current');
    expect(readFileSync(paths.host('/usr/local/lib/containerd/containerd'), 'utf8')).toContain('1.7.21');
  });

  it('refuses an artifact whose sha256 differs, naming both hashes, and keeps nothing of it', async () => {
    const store = new ArtifactStore(paths);
    const good = artifact('1.7.21');
    const wrong = { url: good.url, sha256: '0'.repeat(64) };
    const error = await store.install('containerd', '9.9.9', wrong, archive).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as Error).message).toContain('0'.repeat(64));
    expect((error as Error).message).toContain(good.sha256);
    expect(existsSync(paths.versionDir('containerd', '9.9.9'))).toBe(false);
    expect(readdirSync(paths.downloadsDir)).toEqual([]);
  });

  it('restarts an interrupted download cleanly and reuses a verified one', async () => {
    const store = new ArtifactStore(paths);
    const good = artifact('1.7.21');
    // What a SIGKILL mid-download leaves: a partial temp file, and a truncated file under the final name.
    await store.download(good);
    writeFileSync(join(paths.downloadsDir, `${TEMP_PREFIX}${good.sha256}-dead`), 'partial');
    writeFileSync(join(paths.downloadsDir, good.sha256), 'trunc');
    expect(await store.removeLeftovers(['containerd'])).toHaveLength(1);
    const file = await store.download(good);
    expect(sha256Of(readFileSync(file))).toBe(good.sha256);
    const served = server.requests.length;
    await store.download(good);
    expect(server.requests.length).toBe(served);
  });

  it('keeps the current version and the newest others up to keepVersions', async () => {
    const store = new ArtifactStore(paths, { keepVersions: 2 });
    for (const version of ['1.0.0', '1.0.1', '1.0.2']) {
      await store.install('containerd', version, artifact(version), archive);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await store.activate('containerd', '1.0.0', archive);
    expect(await store.collectGarbage('containerd')).toEqual(['1.0.1']);
    expect((await store.installedVersions('containerd')).sort()).toEqual(['1.0.0', '1.0.2']);
    expect(await store.currentVersion('containerd')).toBe('1.0.0');
  });
  it('imports an Image with its import command once verified, and keeps no version when the import fails', async () => {
    const store = new ArtifactStore(paths);
    const tarball = artifact('1.7.21');
    const imported = join(root, 'imported.tar');
    const importing = (exit: number) => ({
      method: 'Image' as const,
      importCommand: ['sh', '-c', `cp "$1" ${imported}; exit ${exit}`, 'sh', '$(KOK_ARTIFACT)'],
    });
    const failed = await store.install('pause', '3.10', tarball, importing(3)).catch((e: unknown) => e);
    expect(String(failed)).toMatch(/pause: importing the image failed/);
    expect(await store.installedVersions('pause')).toEqual([]);

    await store.install('pause', '3.10', tarball, importing(0));
    await store.activate('pause', '3.10', importing(0));
    expect(await store.installedVersions('pause')).toEqual(['3.10']);
    expect(readlinkSync(paths.currentLink('pause'))).toBe('3.10');
    expect(sha256Of(readFileSync(imported))).toBe(tarball.sha256);
  });

  describe('archives with modes and entries that must not land on the host', () => {
    /** A .tar.gz of what `build` puts in a fresh directory, as a file:// artifact. */
    function archiveOf(name: string, build: (dir: string) => void) {
      const dir = mkdtempSync(join(artifactsDir, `${name}-`));
      build(dir);
      const file = join(artifactsDir, `${name}.tar.gz`);
      execFileSync('tar', ['-czf', file, '-C', dir, '.']);
      return { url: pathToFileURL(file).href, sha256: sha256Of(readFileSync(file)) };
    }
    const modeOf = (path: string) => statSync(path).mode & 0o7777;
    const plain = { method: 'Archive' } as const;

    it('unpacks without setuid, setgid or sticky bits and with nothing world-writable', async () => {
      const unsafe = archiveOf('modes', (dir) => {
        writeFileSync(join(dir, 'suid'), '#!/bin/sh\n');
        chmodSync(join(dir, 'suid'), 0o6755);
        writeFileSync(join(dir, 'open'), 'x');
        chmodSync(join(dir, 'open'), 0o666);
        mkdirSync(join(dir, 'tmp'));
        chmodSync(join(dir, 'tmp'), 0o1777);
        writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
        chmodSync(join(dir, 'tool'), 0o750);
        chmodSync(dir, 0o777); // the archive's "./" entry
      });
      const store = new ArtifactStore(paths);
      await store.install('tools', '1.0.0', unsafe, plain);
      const version = paths.versionDir('tools', '1.0.0');
      expect(modeOf(join(version, 'suid'))).toBe(0o755);
      expect(modeOf(join(version, 'open'))).toBe(0o664);
      expect(modeOf(join(version, 'tmp'))).toBe(0o775);
      expect(modeOf(join(version, 'tool'))).toBe(0o750);
      expect(modeOf(version)).toBe(0o755);
    });

    it('refuses an archive holding a FIFO, naming it, and keeps nothing of it', async () => {
      const fifo = archiveOf('fifo', (dir) => {
        writeFileSync(join(dir, 'bin'), 'x');
        execFileSync('mkfifo', [join(dir, 'pipe')]);
      });
      const store = new ArtifactStore(paths);
      const error = await store.install('tools', '1.0.0', fifo, plain).catch((e: unknown) => e);
      expect(String(error)).toMatch(
        /the archive holds a FIFO pipe; device nodes, FIFOs and sockets are never installed/,
      );
      expect(await store.installedVersions('tools')).toEqual([]);
      expect(readdirSync(paths.componentDir('tools'))).toEqual([]);
    });

    it.runIf(process.getuid?.() === 0)('refuses an archive holding a device node', async () => {
      const device = archiveOf('device', (dir) => execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']));
      const error = await new ArtifactStore(paths)
        .install('tools', '1.0.0', device, plain)
        .catch((e: unknown) => e);
      expect(String(error)).toMatch(/the archive holds a character device null/);
      expect(readdirSync(paths.componentDir('tools'))).toEqual([]);
    });
  });

  it('refuses an install path whose parent leaves the root through a symlink', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'kok-store-outside-'));
    try {
      mkdirSync(paths.host('/usr/local'), { recursive: true });
      symlinkSync(outside, paths.host('/usr/local/lib'));
      const store = new ArtifactStore(paths);
      await store.install('containerd', '1.7.21', artifact('1.7.21'), archive);
      const error = await store.activate('containerd', '1.7.21', archive).catch((e: unknown) => e);
      expect(String(error)).toMatch(
        /install path \/usr\/local\/lib\/containerd: its parent \/usr\/local\/lib leads outside the root/,
      );
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
