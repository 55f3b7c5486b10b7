import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createTarArchive, type TarEntry } from './tar-archive.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tar-archive-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let archives = 0;
function archiveFile(entries: readonly TarEntry[]): string {
  const file = join(scratch, `archive-${++archives}.tar`);
  writeFileSync(file, createTarArchive(entries));
  return file;
}

/** GNU tar's verbose listing in UTC, whitespace collapsed: "mode uid/gid size date time path[ -> target]". */
function gnuTarListing(file: string): string[] {
  const output = execFileSync('tar', ['--numeric-owner', '-tvf', file], {
    env: { ...process.env, TZ: 'UTC' },
  });
  return output
    .toString()
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' '));
}

/** Extracts with GNU tar (modes kept) into a fresh directory and returns it. */
function gnuTarExtract(file: string): string {
  const into = mkdtempSync(join(scratch, 'extract-'));
  execFileSync('tar', ['-xpf', file, '-C', into]);
  return into;
}

const modeOf = (path: string) => lstatSync(path).mode & 0o7777;

const sample: TarEntry[] = [
  { type: 'directory', path: 'bin' },
  { type: 'file', path: 'bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
  { type: 'symlink', path: 'bin/alias', target: 'tool' },
  { type: 'directory', path: 'tmp', mode: 0o1777 },
  { type: 'file', path: 'etc/motd', content: Buffer.from('hello\n'), mode: 0o644 },
  { type: 'file', path: 'empty', content: Buffer.alloc(0), mode: 0o600 },
  { type: 'file', path: 'data/blocks', content: Buffer.alloc(1024, 7), mode: 0o640 },
];

describe('tar archive', () => {
  it('lists in GNU tar as exactly its entries, in order, with modes, owner 0/0, mtime 0 and link targets', () => {
    expect(gnuTarListing(archiveFile(sample))).toEqual([
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 bin/',
      '-rwxr-xr-x 0/0 18 1970-01-01 00:00 bin/tool',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00 bin/alias -> tool',
      'drwxrwxrwt 0/0 0 1970-01-01 00:00 tmp/',
      '-rw-r--r-- 0/0 6 1970-01-01 00:00 etc/motd',
      '-rw------- 0/0 0 1970-01-01 00:00 empty',
      '-rw-r----- 0/0 1024 1970-01-01 00:00 data/blocks',
    ]);
  });

  it('extracts through GNU tar to identical bytes, modes and symlinks', () => {
    const root = gnuTarExtract(archiveFile(sample));
    expect(readFileSync(join(root, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(modeOf(join(root, 'bin/tool'))).toBe(0o755);
    expect(readlinkSync(join(root, 'bin/alias'))).toBe('tool');
    expect(modeOf(join(root, 'tmp'))).toBe(0o1777);
    expect(readFileSync(join(root, 'data/blocks')).equals(Buffer.alloc(1024, 7))).toBe(true);
    expect(readFileSync(join(root, 'empty')).length).toBe(0);
    expect(modeOf(join(root, 'empty'))).toBe(0o600);
  });

  it('is a sequence of 512-byte blocks ending in two zero blocks, and the same entries give the same bytes', () => {
    const archive = createTarArchive(sample);
    expect(archive.length % 512).toBe(0);
    expect(archive.subarray(-1024).equals(Buffer.alloc(1024))).toBe(true);
    expect(createTarArchive(sample.map((entry) => ({ ...entry }))).equals(archive)).toBe(true);
    expect(createTarArchive([]).equals(Buffer.alloc(1024))).toBe(true);
  });

  it('stores paths up to 255 bytes through the ustar prefix field, UTF-8 included', () => {
    const long = `${'p'.repeat(154)}/${'n'.repeat(100)}`;
    const deepDirectory = `${'d'.repeat(120)}/${'e'.repeat(90)}`;
    const unicode = `${'ü'.repeat(60)}/${'ß'.repeat(40)}`; // 201 bytes
    expect(Buffer.byteLength(long)).toBe(255);
    const file = archiveFile([
      { type: 'file', path: long, content: Buffer.from('x'), mode: 0o644 },
      { type: 'directory', path: deepDirectory },
      { type: 'symlink', path: unicode, target: '../target' },
    ]);
    expect(gnuTarListing(file).map((line) => line.split(' ').slice(5).join(' '))).toEqual([
      long,
      `${deepDirectory}/`,
      `${unicode} -> ../target`,
    ]);
    const root = gnuTarExtract(file);
    expect(readFileSync(join(root, long), 'utf8')).toBe('x');
    expect(readlinkSync(join(root, unicode))).toBe('../target');
  });

  it.each([
    ['a path over 255 bytes', `${'a'.repeat(155)}/${'b'.repeat(100)}`, /256 bytes: too long/],
    ['a path with no "/" to split at', 'c'.repeat(101), /no "\/" splits it/],
    ['a last component over 100 bytes', `short/${'c'.repeat(101)}`, /no "\/" splits it/],
    ['an absolute path', '/etc/passwd', /is absolute/],
    ['a ".." component', 'a/../b', /"\.\." component/],
    ['an empty path', '', /empty path/],
  ])('refuses %s, naming the entry', (_, path, message) => {
    expect(() => createTarArchive([{ type: 'file', path, content: Buffer.alloc(0), mode: 0o644 }])).toThrow(
      message,
    );
  });

  it('refuses a path given twice, a symlink target over 100 bytes and a mode outside 0..0o7777', () => {
    const file = { type: 'file', path: 'f', content: Buffer.alloc(0), mode: 0o644 } as const;
    expect(() => createTarArchive([file, { type: 'directory', path: 'f' }])).toThrow(/"f" appears twice/);
    expect(() => createTarArchive([{ type: 'symlink', path: 'l', target: 't'.repeat(101) }])).toThrow(
      /symlink target .* 1 to 100 bytes/,
    );
    expect(() => createTarArchive([{ ...file, mode: 0o10000 }])).toThrow(/mode 4096/);
    expect(() => createTarArchive([{ ...file, mode: 0.5 }])).toThrow(/mode 0.5/);
  });

  it('round-trips any set of files through GNU tar: same paths, bytes and modes', () => {
    const segment = (first: string) =>
      fc.stringMatching(/^[a-z0-9._-]{0,19}$/).map((rest) => `${first}${rest}`);
    // Directory components start with "d", file names with "f", so no file is also a directory. At most
    // 7 directories then at most 3 more then the name keeps every path splittable into prefix and name.
    const path = fc
      .tuple(fc.array(segment('d'), { maxLength: 7 }), fc.array(segment('d'), { maxLength: 3 }), segment('f'))
      .map(([outer, inner, name]) => [...outer, ...inner, name].join('/'));
    const fileEntry = fc.record({
      path,
      content: fc.uint8Array({ maxLength: 1500 }),
      mode: fc.constantFrom(0o644, 0o755, 0o600, 0o444, 0o4755, 0o700),
    });
    fc.assert(
      fc.property(fc.uniqueArray(fileEntry, { selector: (file) => file.path, maxLength: 12 }), (files) => {
        const entries = files.map((file) => ({ type: 'file', ...file }) as const);
        const archive = archiveFile(entries);
        const listed = files.length === 0 ? [] : gnuTarListing(archive).map((line) => line.split(' ')[5]);
        expect(listed).toEqual(files.map((file) => file.path));
        const root = gnuTarExtract(archive);
        for (const file of files) {
          expect(readFileSync(join(root, file.path)).equals(Buffer.from(file.content))).toBe(true);
          expect(modeOf(join(root, file.path))).toBe(file.mode);
        }
        rmSync(root, { recursive: true });
      }),
      { numRuns: 25 },
    );
  });
});
