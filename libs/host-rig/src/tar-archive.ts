/**
 * A deterministic ustar (POSIX.1-1988 tar) writer: the same entries in the same order always give the same
 * bytes. Owner and group are 0 with empty names, every mtime is 0 (1970-01-01), and there are no pax or GNU
 * extension headers, so a path is limited to what the ustar `prefix` + `name` fields can hold.
 */
export type TarEntry =
  | { readonly type: 'file'; readonly path: string; readonly content: Uint8Array; readonly mode: number }
  | { readonly type: 'directory'; readonly path: string; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

/** Longest path (bytes, UTF-8) a ustar header stores: a prefix of up to 155 bytes, "/", a name of up to 100. */
export const maxTarPathBytes = 255;

const blockSize = 512;
const nameBytes = 100;
const prefixBytes = 155;
const linkNameBytes = 100;
/** 11 octal digits in the size field. */
const maxFileSize = 0o77777777777;
const defaultDirectoryMode = 0o755;
const symlinkMode = 0o777;

/**
 * The archive for `entries`, in the order given, ended by two zero blocks. Paths are relative, use "/"
 * and are stored as given (a directory gets a trailing "/"); parent directories are not added.
 */
export function createTarArchive(entries: readonly TarEntry[]): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const path = checkedPath(entry);
    if (seen.has(path)) throw new Error(`tar entry "${path}" appears twice; each path may be written once`);
    seen.add(path);
    parts.push(...entryBlocks(entry, path));
  }
  parts.push(Buffer.alloc(2 * blockSize));
  return Buffer.concat(parts);
}

function checkedPath(entry: TarEntry): string {
  const problem = pathProblem(entry.path);
  if (problem) throw new Error(`tar entry "${entry.path}" ${problem}`);
  return entry.path;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'has an empty path';
  if (path.startsWith('/')) return 'is absolute (tar paths are relative to the archive root)';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.endsWith('/')) return 'ends with "/" (a directory is given by its type, not by a trailing "/")';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..'))
    return 'has an empty, "." or ".." component';
  return undefined;
}

function entryBlocks(entry: TarEntry, path: string): Buffer[] {
  switch (entry.type) {
    case 'file': {
      if (entry.content.length > maxFileSize)
        throw new Error(
          `tar entry "${path}" is ${entry.content.length} bytes; ustar stores at most ${maxFileSize}`,
        );
      const header = headerBlock({ path, typeFlag: '0', mode: entry.mode, size: entry.content.length });
      const padding = (blockSize - (entry.content.length % blockSize)) % blockSize;
      const content = Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.byteLength);
      return [header, content, Buffer.alloc(padding)];
    }
    case 'directory':
      return [
        headerBlock({ path: `${path}/`, typeFlag: '5', mode: entry.mode ?? defaultDirectoryMode, size: 0 }),
      ];
    case 'symlink': {
      const target = Buffer.from(entry.target, 'utf8');
      if (target.length === 0 || target.length > linkNameBytes || target.includes(0))
        throw new Error(
          `tar entry "${path}": symlink target "${entry.target}" must be 1 to ${linkNameBytes} bytes without NUL (ustar linkname field)`,
        );
      return [headerBlock({ path, typeFlag: '2', mode: symlinkMode, size: 0, linkName: target })];
    }
  }
}

interface Header {
  readonly path: string;
  readonly typeFlag: '0' | '2' | '5';
  readonly mode: number;
  readonly size: number;
  readonly linkName?: Buffer;
}

function headerBlock(header: Header): Buffer {
  if (!Number.isInteger(header.mode) || header.mode < 0 || header.mode > 0o7777)
    throw new Error(
      `tar entry "${header.path}" has mode ${header.mode}; a mode is an integer from 0 to 0o7777 (e.g. 0o755)`,
    );
  const { prefix, name } = splitPath(header.path);
  const block = Buffer.alloc(blockSize);
  name.copy(block, 0);
  writeOctal(block, 100, 8, header.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, header.size);
  writeOctal(block, 136, 12, 0); // mtime
  block.write(header.typeFlag, 156, 'ascii');
  header.linkName?.copy(block, 157);
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  // uname and gname stay empty, devmajor and devminor zero-filled.
  prefix.copy(block, 345);
  // The checksum is computed with its own field read as eight spaces.
  block.fill(' ', 148, 156);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  block.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** The stored path as ustar `prefix` and `name`: the name alone when it fits, else split at a "/". */
function splitPath(path: string): { prefix: Buffer; name: Buffer } {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length <= nameBytes) return { prefix: Buffer.alloc(0), name: bytes };
  const tooLong = (why: string) =>
    new Error(
      `tar entry "${path}" is ${bytes.length} bytes: ${why} (ustar stores at most ${maxTarPathBytes} bytes, ` +
        `split at a "/" into a prefix of up to ${prefixBytes} bytes and a name of up to ${nameBytes})`,
    );
  // A directory's trailing "/" is not a component separator, so it is not offered as a split point.
  const stored = path.endsWith('/') ? bytes.length - 1 : bytes.length;
  if (stored > maxTarPathBytes) throw tooLong('too long');
  // The split "/" must leave at most 100 bytes after it and at most 155 before it; prefer the longest name.
  for (let slash = bytes.length - nameBytes - 1; slash <= prefixBytes; slash++) {
    if (slash > 0 && slash < stored && bytes[slash] === 0x2f)
      return { prefix: bytes.subarray(0, slash), name: bytes.subarray(slash + 1) };
  }
  throw tooLong('no "/" splits it into the two fields');
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'ascii');
}
