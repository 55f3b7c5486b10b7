/**
 * An unpacked archive made safe before it is published. The agent unpacks as
 * root, so tar would otherwise put the archive's own modes on the host:
 * setuid binaries, world-writable directories, device nodes. Modes are
 * masked (no setuid/setgid/sticky, nothing world-writable) and an archive
 * that holds anything but files, directories and symlinks is refused.
 */
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { boundedText } from './bounded-text.ts';

/** The permission bits an unpacked file or directory may keep. */
export const UNPACKED_MODE_MASK = 0o775;

/** The archive holds an entry that must not land on the host. */
export class UnsafeArchiveEntryError extends Error {
  constructor(entry: string, kind: string) {
    super(
      boundedText(
        `the archive holds ${kind} ${entry}; device nodes, FIFOs and sockets are never installed, so neither is the archive`,
      ),
    );
    this.name = 'UnsafeArchiveEntryError';
  }
}

/** `mode`'s permission bits as an unpacked entry may have them. Pure. */
export function safeMode(mode: number): number {
  return mode & UNPACKED_MODE_MASK;
}

/**
 * Masks the mode of `dir` and of everything under it, and throws
 * UnsafeArchiveEntryError at the first special file. Symlinks are left as
 * they are: their own mode means nothing on Linux.
 */
export async function makeUnpackedTreeSafe(dir: string, top = dir): Promise<void> {
  const info = await lstat(dir);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeUnpackedTreeSafe(path, top);
    else if (entry.isFile()) await maskMode(path, (await lstat(path)).mode);
    else if (!entry.isSymbolicLink()) throw new UnsafeArchiveEntryError(relative(top, path), kindOf(entry));
  }
  await maskMode(dir, info.mode);
}

async function maskMode(path: string, mode: number): Promise<void> {
  const safe = safeMode(mode);
  if ((mode & 0o7777) !== safe) await chmod(path, safe);
}

function kindOf(entry: {
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): string {
  if (entry.isBlockDevice()) return 'a block device';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  return 'a special file';
}
