/**
 * Crash-safe file writes: a reader (or an agent restarted after SIGKILL) sees
 * either the old content or the new, never a mix. Temp file in the same
 * directory, fsync, rename over the target, fsync the directory so the rename
 * itself survives a power loss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temp name the agent creates; a restart removes leftovers with it. */
export const TEMP_PREFIX = '.kok-tmp-';

function tempNameFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(4).toString('hex')}`);
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `content` to `path` atomically with `mode` (default 0644), creating parent directories. */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = tempNameFor(path);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    // open() applies the umask; chmod sets exactly what the spec asked for.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirectory(dir);
}

/** Points `linkPath` at `target` atomically: a symlink under a temp name renamed over the old one. */
export async function replaceSymlinkAtomic(linkPath: string, target: string): Promise<void> {
  const dir = dirname(linkPath);
  await mkdir(dir, { recursive: true });
  const temp = tempNameFor(linkPath);
  await symlink(target, temp);
  try {
    await rename(temp, linkPath);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dir);
}

/** Hex SHA-256 of a file's content, or undefined when it does not exist. */
export async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export function sha256Of(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Permission bits of a file, or undefined when it does not exist. */
export async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export async function setMode(path: string, mode: number): Promise<void> {
  await chmod(path, mode);
}

/** Removes temp files and directories a killed agent left in `dir` (not recursive). */
export async function removeTempLeftovers(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const leftovers = names.filter((name) => name.startsWith(TEMP_PREFIX));
  await Promise.all(leftovers.map((name) => rm(join(dir, name), { recursive: true, force: true })));
  return leftovers.map((name) => join(dir, name));
}

export function isMissing(error: unknown): boolean {
  return (error as { code?: string }).code === 'ENOENT';
}
