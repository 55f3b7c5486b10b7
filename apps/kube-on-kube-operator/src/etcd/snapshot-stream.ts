/**
 * etcd's snapshot as its JSON gateway streams it: one JSON message per line,
 * `{"result":{"blob":"<base64>"}}`, or `{"error":{...}}` when the member gives
 * up halfway. The bytes are the member's database file followed by the
 * SHA-256 of that file, which etcd appends so that a cut or corrupted stream
 * is caught before anyone restores from it. Pure: the caller feeds the
 * response's chunks and writes what comes out.
 */
import { createHash } from 'node:crypto';

const CHECKSUM_BYTES = 32;

export class SnapshotStreamDecoder {
  #pending = '';

  /** The snapshot bytes in `chunk` (and in what earlier chunks left unfinished); throws on an error message. */
  push(chunk: string): Buffer[] {
    const lines = (this.#pending + chunk).split('\n');
    this.#pending = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '').map(blobOf);
  }

  /** The bytes of a last message the stream did not end with a newline. */
  end(): Buffer[] {
    const rest = this.#pending.trim();
    this.#pending = '';
    return rest === '' ? [] : [blobOf(rest)];
  }
}

function blobOf(line: string): Buffer {
  let message: { result?: { blob?: string }; error?: { message?: string } };
  try {
    message = JSON.parse(line) as typeof message;
  } catch {
    throw new Error(`the snapshot stream holds a message that is not JSON: ${line.slice(0, 120)}`);
  }
  if (message.error)
    throw new Error(`etcd stopped the snapshot: ${message.error.message ?? JSON.stringify(message.error)}`);
  return Buffer.from(message.result?.blob ?? '', 'base64');
}

/** Checks etcd's appended checksum while the bytes go by, and hashes the whole file for the record. */
export class SnapshotChecksum {
  readonly #database = createHash('sha256');
  readonly #file = createHash('sha256');
  /** The last bytes seen: the checksum, once the stream ends. */
  #tail = Buffer.alloc(0);
  #size = 0;

  update(bytes: Buffer): void {
    this.#file.update(bytes);
    this.#size += bytes.length;
    const joined = Buffer.concat([this.#tail, bytes]);
    const split = Math.max(0, joined.length - CHECKSUM_BYTES);
    this.#database.update(joined.subarray(0, split));
    this.#tail = joined.subarray(split);
  }

  /** The file's size and SHA-256; throws when the stream does not end with the checksum of what came before. */
  verify(): { sizeBytes: number; sha256: string } {
    if (this.#tail.length < CHECKSUM_BYTES)
      throw new Error(`the snapshot is ${this.#size} bytes: too short to hold etcd's checksum`);
    if (!this.#database.digest().equals(this.#tail))
      throw new Error(
        'the snapshot does not match the checksum etcd appended to it: the stream was cut or corrupted',
      );
    return { sizeBytes: this.#size, sha256: this.#file.digest('hex') };
  }
}
