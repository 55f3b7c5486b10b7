/**
 * Component versions on disk: downloads verified by SHA-256, each version
 * unpacked into `<root>/opt/kok/<component>/<version>/`, a `current` symlink
 * switched atomically, older versions garbage-collected.
 *
 * Every step is idempotent and leaves nothing half-done visible: downloads and
 * unpacks happen under temp names and appear by rename, so a version
 * directory that exists is complete.
 *
 * Over 400 lines on purpose: download, verify, unpack, switch and collect
 * share the on-disk layout and the order that keeps it crash-safe, which read
 * best in one place.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  fsyncDirectory,
  isMissing,
  removeTempLeftovers,
  replaceSymlinkAtomic,
  sha256OfFile,
  TEMP_PREFIX,
} from './atomic-file.ts';
import { boundedText } from './bounded-text.ts';
import type { HostExecution } from './host-execution.ts';
import { hostExecution } from './host-execution.ts';
import type { HostPaths } from './host-paths.ts';
import { hostPathProblem, isSafeSegment } from './host-paths.ts';
import { makeUnpackedTreeSafe } from './unpacked-tree.ts';
import { httpGet } from './http-get.ts';
import {
  ArtifactRefusedError,
  ArtifactTooLargeError,
  artifactScheme,
  byteCap,
  InsecureArtifactUrlError,
  isDeclaredSizeOverCap,
  maxSizeOf,
} from './artifact-limits.ts';
import type { ArtifactScheme, ArtifactSource } from './artifact-limits.ts';

const run = promisify(execFile);

export interface Artifact extends ArtifactSource {
  readonly sha256: string;
}

export interface InstallMethod {
  readonly method: 'Archive' | 'Binary' | 'Image';
  readonly path?: string | undefined;
  readonly stripComponents?: number | undefined;
  /** Image: the import command, host variables already expanded; `$(KOK_ARTIFACT)` is replaced here. */
  readonly importCommand?: readonly string[] | undefined;
}

/** Where an Image's tarball is kept inside its version directory (the directory exists only once it was imported). */
export const IMAGE_TARBALL = 'image.oci.tar';

/** The artifact's content is not what the catalog promised; it is deleted, never installed. */
export class ChecksumMismatchError extends ArtifactRefusedError {
  readonly expected: string;
  readonly actual: string;
  constructor(url: string, expected: string, actual: string) {
    super(
      'ArtifactChecksumMismatch',
      url,
      `artifact ${url} has sha256 ${actual}, but the Component catalog expects ${expected}; not installed`,
      'refused: artifact sha256 does not match the catalog',
    );
    this.name = 'ChecksumMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

export interface ArtifactStoreOptions {
  /** How many versions of a component to keep on disk, the current one included. Default 2 (current + one for rollback). */
  keepVersions?: number;
  /** Deadline of one download. Default 5 min. */
  downloadTimeoutMs?: number;
  /** Where tar and an Image's import command run. Default: here, with the agent's paths. */
  execution?: HostExecution;
}

export class ArtifactStore {
  readonly #paths: HostPaths;
  readonly #keep: number;
  readonly #timeoutMs: number;
  readonly #execution: HostExecution;

  constructor(paths: HostPaths, options: ArtifactStoreOptions = {}) {
    this.#paths = paths;
    this.#execution = options.execution ?? hostExecution({ root: paths.root });
    this.#keep = Math.max(1, options.keepVersions ?? 2);
    this.#timeoutMs = options.downloadTimeoutMs ?? 300_000;
  }

  /** Removes partial downloads and unpacks a killed agent left behind. */
  async removeLeftovers(components: readonly string[]): Promise<string[]> {
    const removed = await removeTempLeftovers(this.#paths.downloadsDir);
    for (const component of components)
      removed.push(...(await removeTempLeftovers(this.#paths.componentDir(component))));
    return removed;
  }

  /** The version `current` points at, or undefined. */
  async currentVersion(component: string): Promise<string | undefined> {
    try {
      return basename(await readlink(this.#paths.currentLink(component)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Versions unpacked on disk, newest install first. */
  async installedVersions(component: string): Promise<string[]> {
    const dir = this.#paths.componentDir(component);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const versions: { name: string; mtime: number }[] = [];
    for (const name of names) {
      if (name === 'current' || name.startsWith(TEMP_PREFIX)) continue;
      const info = await lstat(join(dir, name));
      if (info.isDirectory()) versions.push({ name, mtime: info.mtimeMs });
    }
    return versions.sort((a, b) => b.mtime - a.mtime).map((v) => v.name);
  }

  async isInstalled(component: string, version: string): Promise<boolean> {
    try {
      return (await stat(this.#paths.versionDir(component, version))).isDirectory();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Makes `<component>/<version>/` exist with the artifact's content. Reuses
   * a verified download; throws ChecksumMismatchError (and keeps nothing) when
   * the bytes are not the promised ones.
   */
  async install(component: string, version: string, artifact: Artifact, how: InstallMethod): Promise<void> {
    if (await this.isInstalled(component, version)) return;
    const file = await this.download(artifact);
    const componentDir = this.#paths.componentDir(component);
    await mkdir(componentDir, { recursive: true });
    const staging = join(componentDir, `${TEMP_PREFIX}${version}-${randomBytes(4).toString('hex')}`);
    // Nobody else may reach what tar unpacks until its modes are safe (a setuid binary, a device node).
    await mkdir(staging, { mode: 0o700 });
    try {
      if (how.method === 'Archive') {
        await unpack(this.#execution, file, staging, how.stripComponents ?? 0, artifact.url);
        await makeUnpackedTreeSafe(staging);
        await chmod(staging, 0o755);
      } else if (how.method === 'Image') {
        const tarball = join(staging, IMAGE_TARBALL);
        await copyFile(file, tarball);
        await importImage(this.#execution, component, how, tarball);
      } else {
        const target = join(staging, binaryName(component, how));
        await copyFile(file, target);
        const handle = await open(target, 'r');
        await handle.chmod(0o755);
        await handle.close();
      }
      await fsyncTree(staging);
      await rename(staging, this.#paths.versionDir(component, version));
      await fsyncDirectory(componentDir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Downloads and unpacks `version` again, from scratch: the cached download
   * is dropped and the unpacked directory is moved aside under a temp name
   * (removed as a leftover if the agent dies) before a fresh install takes
   * its place. `current` dangles only between that move and the rename of
   * the new directory.
   */
  async reinstall(component: string, version: string, artifact: Artifact, how: InstallMethod): Promise<void> {
    await rm(join(this.#paths.downloadsDir, artifact.sha256), { force: true });
    const dir = this.#paths.versionDir(component, version);
    const aside = join(
      this.#paths.componentDir(component),
      `${TEMP_PREFIX}old-${version}-${randomBytes(4).toString('hex')}`,
    );
    let moved = false;
    try {
      await rename(dir, aside);
      moved = true;
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    try {
      await this.install(component, version, artifact, how);
    } catch (error) {
      // A failed download must not leave the host without the version it runs.
      if (moved) await rename(aside, dir);
      throw error;
    }
    if (moved) await rm(aside, { recursive: true, force: true });
  }

  /** Points `current` at `version` (atomically) and the install path at `current`. */
  async activate(component: string, version: string, how: InstallMethod): Promise<void> {
    if (!(await this.isInstalled(component, version)))
      throw new Error(`component ${component} ${version} is not unpacked; cannot activate it`);
    if ((await this.currentVersion(component)) !== version) {
      await replaceSymlinkAtomic(this.#paths.currentLink(component), version);
    }
    if (how.path) {
      const problem = await hostPathProblem(this.#paths, how.path);
      if (problem) throw new Error(`install path ${problem}`);
      const link = this.#paths.host(how.path);
      const current = this.#paths.currentLink(component);
      const target = relative(
        dirname(link),
        how.method === 'Binary' ? join(current, binaryName(component, how)) : current,
      );
      let existing: string | undefined;
      try {
        existing = await readlink(link);
      } catch (error) {
        if (!isMissing(error) && (error as { code?: string }).code !== 'EINVAL') throw error;
      }
      if (existing !== target) await replaceSymlinkAtomic(link, target);
    }
  }

  /** Every component directory on disk (`<root>/opt/kok/<component>`), switched on or not. */
  async componentNames(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.#paths.host('/opt/kok'), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    return entries
      .filter((entry) => entry.isDirectory() && isSafeSegment(entry.name))
      .map((entry) => entry.name)
      .sort();
  }

  /**
   * Switches a component off without deleting it: `installPath`, when it is
   * the link `activate` made, and then `current` go; every unpacked version
   * stays, so naming the component again needs no download. Idempotent.
   */
  async deactivate(component: string, installPath: string | undefined): Promise<void> {
    if (installPath) {
      const link = this.#paths.host(installPath);
      let target: string | undefined;
      try {
        target = await readlink(link);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'ENOENT' && code !== 'EINVAL') throw error;
      }
      // Only a link into this component's directory is the agent's; anything else at that path is left alone.
      const current = this.#paths.currentLink(component);
      if (target !== undefined) {
        const resolved = join(dirname(link), target);
        if (resolved === current || dirname(resolved) === current) await unlinkDurably(link);
      }
    }
    await unlinkDurably(this.#paths.currentLink(component));
  }

  /** Deletes versions beyond the newest `keepVersions`, never the current one. Returns what it removed. */
  async collectGarbage(component: string): Promise<string[]> {
    const current = await this.currentVersion(component);
    const others = (await this.installedVersions(component)).filter((v) => v !== current);
    const doomed = others.slice(Math.max(0, this.#keep - (current ? 1 : 0)));
    for (const version of doomed)
      await rm(this.#paths.versionDir(component, version), { recursive: true, force: true });
    return doomed;
  }

  /**
   * Removes every version of `component`, its install-path link and its
   * cached downloads' directory entry: what a host leaving the cluster keeps
   * of it is nothing. Idempotent.
   */
  async removeComponent(component: string, how: InstallMethod): Promise<void> {
    if (how.path) {
      const link = this.#paths.host(how.path);
      try {
        if ((await lstat(link)).isSymbolicLink()) await rm(link, { force: true });
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    await rm(this.#paths.componentDir(component), { recursive: true, force: true });
  }

  /** Empties the download cache. */
  async removeDownloads(): Promise<void> {
    await rm(this.#paths.downloadsDir, { recursive: true, force: true });
  }

  /**
   * The artifact as a verified file in the download cache (named by its
   * SHA-256). A partial download lives under a temp name and is thrown away,
   * as is one that passes the artifact's size cap: the download stops at the
   * first byte over (or before the body when its announced size is over), and
   * only content within the cap whose SHA-256 matches is renamed into place.
   * A plain http:// URL is fetched only when the artifact allows it.
   */
  async download(artifact: Artifact): Promise<string> {
    const scheme = artifactScheme(artifact);
    if ('problem' in scheme) throw new InsecureArtifactUrlError(artifact.url, scheme.problem);
    const cap = maxSizeOf(artifact);
    const dir = this.#paths.downloadsDir;
    await mkdir(dir, { recursive: true });
    const cached = join(dir, artifact.sha256);
    const cachedSize = await sizeOfFile(cached);
    if (cachedSize !== undefined && cachedSize > cap)
      throw new ArtifactTooLargeError(artifact.url, cap, `the cached download is ${cachedSize} bytes`);
    const cachedSha = cachedSize === undefined ? undefined : await sha256OfFile(cached);
    if (cachedSha === artifact.sha256) return cached;
    if (cachedSha !== undefined) await rm(cached, { force: true });
    const temp = join(dir, `${TEMP_PREFIX}${artifact.sha256}-${randomBytes(4).toString('hex')}`);
    const hash = createHash('sha256');
    try {
      const source = await this.#open(artifact.url, scheme.scheme, cap);
      const capped = byteCap(artifact.url, cap);
      capped.on('data', (chunk: Buffer) => hash.update(chunk));
      const sink = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
      await pipeline(source, capped, sink);
      const actual = hash.digest('hex');
      if (actual !== artifact.sha256) throw new ChecksumMismatchError(artifact.url, artifact.sha256, actual);
      const handle = await open(temp, 'r');
      await handle.sync();
      await handle.close();
      await rename(temp, cached);
      await fsyncDirectory(dir);
      return cached;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The artifact's bytes, refused up front when their announced size is over `cap`. */
  async #open(url: string, scheme: ArtifactScheme, cap: number): Promise<Readable> {
    if (scheme === 'file') {
      const path = fileURLToPath(url);
      const size = (await stat(path)).size;
      if (isDeclaredSizeOverCap(size, cap))
        throw new ArtifactTooLargeError(url, cap, `the file is ${size} bytes`);
      const { createReadStream } = await import('node:fs');
      return createReadStream(path);
    }
    const response = await httpGet(url, AbortSignal.timeout(this.#timeoutMs));
    // Destroyed, not drained: an error page or an oversized body is not read at all.
    if (!response.ok) {
      response.body.destroy();
      throw new Error(`download of ${url} failed: HTTP ${response.status}`);
    }
    const declared = response.body.headers['content-length'];
    if (isDeclaredSizeOverCap(declared, cap)) {
      response.body.destroy();
      throw new ArtifactTooLargeError(url, cap, `Content-Length ${declared ?? ''}`);
    }
    return response.body;
  }
}

/** Unpacks a .tar.gz as the agent's user would own it; tar's complaints, cut to a status message's size, say why not. */
async function unpack(
  execution: HostExecution,
  file: string,
  into: string,
  stripComponents: number,
  url: string,
): Promise<void> {
  const [tar, ...args] = execution.command([
    'tar',
    ...['-xzf', execution.hostPath(file), '-C', execution.hostPath(into)],
    ...['--no-same-owner', `--strip-components=${stripComponents}`],
  ]) as [string, ...string[]];
  try {
    await run(tar, args);
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`unpacking ${url} failed: ${boundedText((stderr || (error as Error).message).trim())}`, {
      cause: error,
    });
  }
}

/** Runs the Image's import command; the version directory appears only after it succeeded. */
async function importImage(
  execution: HostExecution,
  component: string,
  how: InstallMethod,
  tarball: string,
): Promise<void> {
  const wanted = (how.importCommand ?? []).map((arg) =>
    arg.replaceAll('$(KOK_ARTIFACT)', execution.hostPath(tarball)),
  );
  const [command, ...args] = wanted;
  if (!command) throw new Error(`component ${component}: the Image method needs install.importCommand`);
  const [runs, ...runArgs] = execution.command(wanted) as [string, ...string[]];
  try {
    await run(runs, runArgs, { timeout: 120_000 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(
      `component ${component}: importing the image failed (${command} ${args.join(' ')}): ${boundedText((stderr || (error as Error).message).trim())}`,
      { cause: error },
    );
  }
}

/** Removes a link (or file) and makes the removal durable; a missing one is fine. */
async function unlinkDurably(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  await fsyncDirectory(dirname(path));
}

async function sizeOfFile(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function binaryName(component: string, how: InstallMethod): string {
  return how.path ? basename(how.path) : component;
}

/** fsyncs every file and directory under `dir`, so a rename that publishes it publishes durable content. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) {
      const handle = await open(path, 'r');
      await handle.sync();
      await handle.close();
    }
  }
  await fsyncDirectory(dir);
}
