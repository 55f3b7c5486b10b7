// A client that keeps writing to a Cluster's etcd while its membership changes: one key after another, each
// through whichever member is Ready and takes it, retried for a while before it counts as failed.
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { isReadyPod } from './api-client-probe.ts';
import type { ClusterRef, EtcdClientTls } from './etcd-gateway.ts';
import { etcdGatewayCall } from './etcd-gateway.ts';
import type { RealBoot } from './real-boot.ts';

export interface EtcdWriter {
  /** Keys etcd acknowledged, in order. */
  readonly acknowledged: string[];
  /** Keys no member took within the retry window. */
  readonly failed: string[];
  /** Milliseconds from the first try of each acknowledged key to its acknowledgement, retries included. */
  readonly latenciesMs: number[];
  stop(): Promise<void>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Writes `<prefix><n>` keys until stopped, pausing `pauseMs` between them. */
export function startEtcdWriter(
  boot: RealBoot,
  ref: ClusterRef,
  tls: EtcdClientTls,
  { prefix = '/kok-test/', retryMs = 10_000, pauseMs = 100 } = {},
): EtcdWriter {
  const acknowledged: string[] = [];
  const failed: string[] = [];
  const latenciesMs: number[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const key = `${prefix}${String(n).padStart(6, '0')}`;
      const began = Date.now();
      let written = false;
      while (!written && Date.now() < began + retryMs) {
        const pods = (await boot.podsOf('etcd').catch(() => [])).filter(isReadyPod);
        for (const pod of pods) {
          try {
            await etcdGatewayCall(
              pod,
              tls,
              ref,
              '/v3/kv/put',
              { key: b64(key), value: b64(String(n)) },
              2_000,
            );
            written = true;
            break;
          } catch {
            // Another member, or the same again shortly.
          }
        }
        if (!written) await new Promise((r) => setTimeout(r, 200));
      }
      if (written) {
        acknowledged.push(key);
        latenciesMs.push(Date.now() - began);
      } else failed.push(key);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    acknowledged,
    failed,
    latenciesMs,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The keys under `prefix` etcd holds, read at `pod`. */
export async function etcdKeys(
  pod: V1Pod,
  tls: EtcdClientTls,
  ref: ClusterRef,
  prefix: string,
): Promise<Set<string>> {
  const rangeEnd = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const range = await etcdGatewayCall(pod, tls, ref, '/v3/kv/range', {
    key: b64(prefix),
    range_end: b64(rangeEnd),
    keys_only: true,
  });
  return new Set(
    ((range['kvs'] as { key: string }[] | undefined) ?? []).map((kv) =>
      Buffer.from(kv.key, 'base64').toString(),
    ),
  );
}

/**
 * Writes `count` keys `<prefix>key-NNNNNN` of `valueBytes` random bytes through the gateway of `pod`,
 * `parallel` at a time; the seconds it took.
 */
export async function loadEtcdKeys(
  pod: V1Pod,
  tls: EtcdClientTls,
  ref: ClusterRef,
  {
    count,
    valueBytes,
    prefix,
    parallel = 8,
  }: { count: number; valueBytes: number; prefix: string; parallel?: number },
): Promise<number> {
  const began = performance.now();
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++)
      await etcdGatewayCall(pod, tls, ref, '/v3/kv/put', {
        key: b64(`${prefix}key-${String(i).padStart(6, '0')}`),
        value: randomBytes(valueBytes).toString('base64'),
      });
  };
  await Promise.all(Array.from({ length: parallel }, writer));
  return (performance.now() - began) / 1000;
}
