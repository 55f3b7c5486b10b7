import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Of } from './atomic-file.ts';
import {
  DIGEST_KEY_FILE,
  keyedDigest,
  keyedDigestOfFile,
  lastWrittenFromStatus,
  loadDigestKey,
} from './published-digest.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kok-digest-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('digest key', () => {
  it('is created once, 32 random bytes readable by root only, and kept across loads', async () => {
    const key = await loadDigestKey(dir);
    expect(key).toHaveLength(32);
    expect(statSync(join(dir, DIGEST_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(await loadDigestKey(dir)).toEqual(key);
  });

  it('is replaced when a crash left it short', async () => {
    writeFileSync(join(dir, DIGEST_KEY_FILE), 'short');
    const key = await loadDigestKey(dir);
    expect(key).toHaveLength(32);
    expect(readFileSync(join(dir, DIGEST_KEY_FILE))).toEqual(key);
  });
});

describe('keyed digest', () => {
  it('is not the plain sha256, differs by key and follows the content', async () => {
    const key = Buffer.alloc(32, 1);
    const other = Buffer.alloc(32, 2);
    expect(keyedDigest(key, 'token')).not.toBe(sha256Of('token'));
    expect(keyedDigest(key, 'token')).not.toBe(keyedDigest(other, 'token'));
    expect(keyedDigest(key, 'token')).not.toBe(keyedDigest(key, 'token2'));
    writeFileSync(join(dir, 'f'), 'token');
    expect(await keyedDigestOfFile(key, join(dir, 'f'))).toBe(keyedDigest(key, 'token'));
    expect(await keyedDigestOfFile(key, join(dir, 'missing'))).toBeUndefined();
  });
});

describe('lastWrittenFromStatus', () => {
  const key = Buffer.alloc(32, 7);
  const desired = [
    { path: '/etc/a', content: 'a', sha256: sha256Of('a') },
    { path: '/etc/token', content: 'secret', sha256: sha256Of('secret') },
  ];
  it.each([
    ['a plain sha256 as published', [{ path: '/etc/a', sha256: 'abc' }], [['/etc/a', 'abc']]],
    [
      'a keyed digest of the desired content',
      [{ path: '/etc/token', hmacSha256: keyedDigest(key, 'secret') }],
      [['/etc/token', sha256Of('secret')]],
    ],
    ['a keyed digest of other content', [{ path: '/etc/token', hmacSha256: keyedDigest(key, 'old') }], []],
    ['a path no longer desired', [{ path: '/etc/gone', hmacSha256: 'x' }], []],
    ['nothing but the path', [{ path: '/etc/token' }], []],
  ])('%s', (_, published, expected) => {
    expect([...lastWrittenFromStatus(published, desired, key)]).toEqual(expected);
  });
});
