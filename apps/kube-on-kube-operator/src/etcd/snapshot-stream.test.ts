import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotChecksum, SnapshotStreamDecoder } from './snapshot-stream.ts';

/** A snapshot as etcd makes one: the database, then its SHA-256. */
const snapshotOf = (database: Buffer) =>
  Buffer.concat([database, createHash('sha256').update(database).digest()]);

/** The gateway's stream of `bytes` in messages of `blobSize` bytes, cut into chunks at `cuts`. */
function streamOf(bytes: Buffer, blobSize: number, cuts: readonly number[]): string[] {
  let text = '';
  for (let i = 0; i < bytes.length; i += blobSize)
    text += `${JSON.stringify({ result: { blob: bytes.subarray(i, i + blobSize).toString('base64'), version: '3.6.0' } })}\n`;
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((start, i) => text.slice(start, at[i] ?? text.length));
}

function decode(chunks: readonly string[]): { bytes: Buffer; record: { sizeBytes: number; sha256: string } } {
  const decoder = new SnapshotStreamDecoder();
  const checksum = new SnapshotChecksum();
  const parts = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
  for (const part of parts) checksum.update(part);
  return { bytes: Buffer.concat(parts), record: checksum.verify() };
}

describe('etcd snapshot stream', () => {
  it('gives back the snapshot bytes however the messages and chunks fall, and records the file', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (database, blobSize, cuts) => {
          const snapshot = snapshotOf(Buffer.from(database));
          const { bytes, record } = decode(streamOf(snapshot, blobSize, cuts));
          expect(bytes.equals(snapshot)).toBe(true);
          expect(record).toEqual({
            sizeBytes: snapshot.length,
            sha256: createHash('sha256').update(snapshot).digest('hex'),
          });
        },
      ),
    );
  });

  it('refuses a snapshot whose appended checksum does not match: a changed byte, a cut stream', () => {
    const snapshot = snapshotOf(Buffer.from('a database file'.repeat(50)));
    const changed = Buffer.from(snapshot);
    changed[10] = (changed[10] ?? 0) ^ 1;
    expect(() => decode(streamOf(changed, 64, []))).toThrow(/does not match the checksum/);
    expect(() => decode(streamOf(snapshot.subarray(0, 400), 64, []))).toThrow(/does not match the checksum/);
    expect(() => decode(streamOf(snapshot.subarray(0, 20), 64, []))).toThrow(/too short/);
  });

  it("stops on etcd's error message, and on a line that is not JSON", () => {
    const decoder = new SnapshotStreamDecoder();
    expect(() => decoder.push('{"error":{"grpc_code":14,"message":"etcdserver: server stopped"}}\n')).toThrow(
      'etcd stopped the snapshot: etcdserver: server stopped',
    );
    expect(() => new SnapshotStreamDecoder().push('<html>\n')).toThrow(/not JSON/);
  });
});
