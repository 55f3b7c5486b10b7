/**
 * Streams one member's snapshot into a file: written under a temporary name,
 * checked against the checksum etcd appends, flushed to the disk, then renamed
 * into place, so a snapshot file that exists is whole whatever happened to the
 * operator or the member halfway. And the retention: the oldest files beyond
 * spec.etcd.backup.keep are deleted once a new one is in place.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import type { EtcdClientTls, EtcdTarget } from './member-api.ts';
import { snapshotsBeyondRetention } from './snapshot-plan.ts';
import { SnapshotChecksum, SnapshotStreamDecoder } from './snapshot-stream.ts';

/** A snapshot streams the whole database: give up if it stalls this long between bytes. */
export const SNAPSHOT_IDLE_TIMEOUT_MS = 60_000;

const TEMP_PREFIX = '.partial-';

export interface SavedSnapshot {
  sizeBytes: number;
  sha256: string;
}

/** Saves the snapshot `target` streams at `path`; nothing is left at `path` (or beside it) if it fails. */
export async function saveSnapshot(
  target: EtcdTarget,
  tls: EtcdClientTls,
  path: string,
): Promise<SavedSnapshot> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `${TEMP_PREFIX}${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const file = await open(temp, 'wx', 0o600);
  try {
    const checksum = new SnapshotChecksum();
    const decoder = new SnapshotStreamDecoder();
    const write = async (parts: Buffer[]) => {
      for (const part of parts) {
        checksum.update(part);
        await file.write(part);
      }
    };
    await streamSnapshot(target, tls, async (chunk) => write(decoder.push(chunk)));
    await write(decoder.end());
    const saved = checksum.verify();
    await file.sync();
    await file.close();
    await rename(temp, path);
    await syncDirectory(dirname(path));
    return saved;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

/** POSTs the snapshot call and hands each chunk of the answer to `onChunk`, one at a time, in order. */
function streamSnapshot(
  target: EtcdTarget,
  tls: EtcdClientTls,
  onChunk: (chunk: string) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: target.address,
        port: target.port,
        method: 'POST',
        path: '/v3/maintenance/snapshot',
        servername: target.serverName,
        ...tls,
        headers: { 'content-type': 'application/json', 'content-length': 2 },
        timeout: SNAPSHOT_IDLE_TIMEOUT_MS,
        agent: false,
      },
      (res) => {
        res.setEncoding('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk.slice(0, 1000 - text.length)));
          res.on('end', () =>
            reject(new Error(`etcd ${target.serverName} snapshot: ${status} ${text.trim()}`)),
          );
          return;
        }
        // Paused while a chunk is written: the file keeps pace with the member, memory stays flat.
        let writing = Promise.resolve();
        res.on('data', (chunk: string) => {
          res.pause();
          writing = writing.then(async () => {
            await onChunk(chunk);
            res.resume();
          });
          writing.catch((error: unknown) => req.destroy(error as Error));
        });
        res.on('end', () => void writing.then(resolve, reject));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(
        new Error(`etcd ${target.serverName} snapshot: nothing for ${SNAPSHOT_IDLE_TIMEOUT_MS} ms`),
      ),
    );
    req.on('error', reject);
    req.end('{}');
  });
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Deletes the Cluster's snapshot files in `dir` beyond the newest `keep`, and temporary leftovers; returns the deleted names. */
export async function pruneSnapshots(dir: string, cluster: string, keep: number): Promise<string[]> {
  const names = await readdir(dir);
  const beyond = snapshotsBeyondRetention(cluster, names, keep);
  // A leftover of a snapshot cut short by a killed operator: never a whole snapshot.
  const leftovers = names.filter((n) => n.startsWith(TEMP_PREFIX));
  for (const name of [...beyond, ...leftovers]) await rm(join(dir, name), { force: true });
  return beyond;
}
