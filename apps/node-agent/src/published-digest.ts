/**
 * What Machine.status says about a file's content. A plain sha256 of a
 * Secret's content would let anyone who can read the Machine guess a
 * low-entropy secret (a bootstrap token, a password) offline, so a file from
 * a Secret is published as an HMAC-SHA256 under a random key that never
 * leaves the host: a change still shows, the content cannot be guessed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, writeFileAtomic } from './atomic-file.ts';

/** The per-host key, in the agent's state directory (readable by root only). */
export const DIGEST_KEY_FILE = 'status-digest.key';
const KEY_BYTES = 32;

/** The host's digest key, created (0600) on first use. */
export async function loadDigestKey(stateDir: string): Promise<Buffer> {
  const path = join(stateDir, DIGEST_KEY_FILE);
  try {
    const key = await readFile(path);
    if (key.length === KEY_BYTES) return key;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  // Missing or cut short by a crash: a new key only makes each Secret file's digest change once.
  const key = randomBytes(KEY_BYTES);
  await writeFileAtomic(path, key, 0o600);
  return key;
}

export function keyedDigest(key: Buffer, content: string | Uint8Array): string {
  return createHmac('sha256', key).update(content).digest('hex');
}

/** The keyed digest of a file's content, or undefined when it does not exist. */
export async function keyedDigestOfFile(key: Buffer, path: string): Promise<string | undefined> {
  try {
    return keyedDigest(key, await readFile(path));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export interface PublishedFile {
  readonly path: string;
  readonly sha256?: string | undefined;
  readonly hmacSha256?: string | undefined;
}

/**
 * The sha256 the agent last wrote to each path, as a restarted agent can tell
 * from the status it published: a plain sha256 as it is, a keyed digest when
 * it is the one of the desired content. Drift is judged against it.
 */
export function lastWrittenFromStatus(
  published: readonly PublishedFile[],
  desired: readonly { readonly path: string; readonly content: string; readonly sha256: string }[],
  key: Buffer,
): Map<string, string> {
  const written = new Map<string, string>();
  for (const file of published) {
    if (file.sha256) written.set(file.path, file.sha256);
    else if (file.hmacSha256) {
      const wanted = desired.find((f) => f.path === file.path);
      if (wanted && keyedDigest(key, wanted.content) === file.hmacSha256)
        written.set(file.path, wanted.sha256);
    }
  }
  return written;
}
