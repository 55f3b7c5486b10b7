import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { ArtifactTooLargeError, InsecureArtifactUrlError } from './artifact-limits.ts';
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

/** A containerd archive on the local (plain http) artifact server. */
function artifact(version: string) {
  const built = containerdArtifact(artifactsDir, version);
  return { url: server.urlOf(built.name), sha256: built.sha256, allowInsecureHttp: true };
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
    const wrong = { ...good, sha256: '0'.repeat(64) };
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
  it('switches a component off keeping its versions, and names it again as a directory on disk', async () => {
    const store = new ArtifactStore(paths);
    for (const version of ['1.7.21', '1.7.22']) {
      await store.install('containerd', version, artifact(version), archive);
      await store.activate('containerd', version, archive);
    }
    mkdirSync(join(root, 'opt/kok', `${TEMP_PREFIX}x`), { recursive: true });
    expect(await store.componentNames()).toEqual(['containerd']);

    await store.deactivate('containerd', archive.path);
    await store.deactivate('containerd', archive.path);
    expect(await store.currentVersion('containerd')).toBeUndefined();
    expect(existsSync(paths.host(archive.path))).toBe(false);
    expect((await store.installedVersions('containerd')).sort()).toEqual(['1.7.21', '1.7.22']);
    expect(await store.componentNames()).toEqual(['containerd']);
    // Named again: the kept version is switched on as it is.
    await store.activate('containerd', '1.7.21', archive);
    expect(readFileSync(paths.host('/usr/local/lib/containerd/containerd'), 'utf8')).toContain('1.7.21');
  });

  it('leaves a link at the install path alone when it does not lead into the component', async () => {
    const store = new ArtifactStore(paths);
    await store.install('containerd', '1.7.21', artifact('1.7.21'), archive);
    await store.activate('containerd', '1.7.21', archive);
    rmSync(paths.host(archive.path));
    symlinkSync('/somewhere/else', paths.host(archive.path));
    await store.deactivate('containerd', archive.path);
    expect(readlinkSync(paths.host(archive.path))).toBe('/somewhere/else');
    expect(await store.currentVersion('containerd')).toBeUndefined();
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

  describe('size cap and scheme', () => {
    /** A plain http server answering every request with `respond`; resolves its base URL. */
    async function serve(respond: (request: IncomingMessage, response: ServerResponse) => void) {
      const raw = createServer(respond);
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
      const address = raw.address();
      const close = () => {
        raw.closeAllConnections();
        return new Promise<void>((resolve) => raw.close(() => resolve()));
      };
      return {
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/a`,
        close,
      };
    }

    it('cuts a body without Content-Length at the first byte over maxSizeBytes and keeps nothing', async () => {
      let sent = 0;
      const disconnected = Promise.withResolvers<void>();
      // An endless chunked body: the download ends only if the agent stops reading and hangs up.
      const endless = await serve((_request, response) => {
        response.on('close', () => disconnected.resolve());
        const chunk = Buffer.alloc(16 * 1024, 1);
        const pump = () => {
          while (!response.destroyed && response.write(chunk)) sent += chunk.length;
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
      });
      try {
        const store = new ArtifactStore(paths, { downloadTimeoutMs: 60_000 });
        const capped = {
          url: endless.url,
          sha256: 'a'.repeat(64),
          maxSizeBytes: 100_000,
          allowInsecureHttp: true,
        };
        const error = await store.download(capped).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArtifactTooLargeError);
        expect(String(error)).toContain(
          'larger than its maxSizeBytes 100000 (more than 100000 bytes arrived)',
        );
        await disconnected.promise;
        expect(sent).toBeLessThan(64 * 1024 * 1024);
        expect(readdirSync(paths.downloadsDir)).toEqual([]);
      } finally {
        await endless.close();
      }
    });

    it('refuses a Content-Length over maxSizeBytes before reading the body', async () => {
      // Announces 1 GiB and sends none of it: an agent that read the body would wait for the timeout.
      const announcing = await serve((_request, response) => {
        response.writeHead(200, { 'content-length': String(1024 ** 3) });
        response.flushHeaders();
      });
      try {
        const store = new ArtifactStore(paths, { downloadTimeoutMs: 60_000 });
        const capped = {
          url: announcing.url,
          sha256: 'a'.repeat(64),
          maxSizeBytes: 1024,
          allowInsecureHttp: true,
        };
        const started = Date.now();
        const error = await store.download(capped).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArtifactTooLargeError);
        expect(String(error)).toContain(`larger than its maxSizeBytes 1024 (Content-Length ${1024 ** 3})`);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(readdirSync(paths.downloadsDir)).toEqual([]);
      } finally {
        await announcing.close();
      }
    });

    it('installs an artifact of exactly maxSizeBytes, and refuses it with one byte less allowed', async () => {
      const good = artifact('1.7.21');
      const size = statSync(join(artifactsDir, 'containerd-1.7.21.tar.gz')).size;
      const store = new ArtifactStore(paths);
      const error = await store
        .install('containerd', '1.7.21', { ...good, maxSizeBytes: size - 1 }, archive)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArtifactTooLargeError);
      expect(await store.installedVersions('containerd')).toEqual([]);
      await store.install('containerd', '1.7.21', { ...good, maxSizeBytes: size }, archive);
      expect(await store.installedVersions('containerd')).toEqual(['1.7.21']);
      // A verified download in the cache is no way around a lowered cap.
      await expect(store.download({ ...good, maxSizeBytes: size - 1 })).rejects.toThrow(
        ArtifactTooLargeError,
      );
    });

    it('refuses a file:// artifact larger than maxSizeBytes', async () => {
      const file = join(artifactsDir, 'big.bin');
      writeFileSync(file, Buffer.alloc(4096));
      const local = {
        url: pathToFileURL(file).href,
        sha256: sha256Of(readFileSync(file)),
        maxSizeBytes: 4095,
      };
      await expect(new ArtifactStore(paths).download(local)).rejects.toThrow(/the file is 4096 bytes/);
      expect(
        sha256Of(readFileSync(await new ArtifactStore(paths).download({ ...local, maxSizeBytes: 4096 }))),
      ).toBe(local.sha256);
    });

    it('refuses a plain http:// URL without allowInsecureHttp, before any request, and fetches it with it', async () => {
      const good = artifact('1.7.21');
      const store = new ArtifactStore(paths);
      const error = await store
        .install('containerd', '1.7.21', { url: good.url, sha256: good.sha256 }, archive)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InsecureArtifactUrlError);
      expect(String(error)).toContain('use an https:// URL, or set artifact.allowInsecureHttp: true');
      expect(server.requests).toEqual([]);
      expect(await store.installedVersions('containerd')).toEqual([]);

      await store.install('containerd', '1.7.21', good, archive);
      expect(server.requests).toEqual(['containerd-1.7.21.tar.gz']);
      expect(await store.installedVersions('containerd')).toEqual(['1.7.21']);
    });
  });
});
