/**
 * etcd's JSON gateway as a test reaches it: with the apiserver's etcd client
 * certificate of a Cluster booted by real-boot.ts, at a member's pod address,
 * verifying the member under its DNS name (what its serving certificate names).
 */
import { request } from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';
import { mtlsJsonCall } from './mtls-json-call.ts';
import type { RealBoot } from './real-boot.ts';

export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Where the Cluster is: its namespace and name. */
export interface ClusterRef {
  namespace: string;
  cluster: string;
}

/** etcd's CA and the client certificate the Cluster's apiservers use, from their Secrets. */
export async function etcdClientTls(
  boot: RealBoot,
  { namespace, cluster }: ClusterRef,
): Promise<EtcdClientTls> {
  const text = async (name: string, key: string) =>
    Buffer.from(
      (await boot.core.readNamespacedSecret({ name, namespace })).data?.[key] ?? '',
      'base64',
    ).toString();
  return {
    ca: await text(`${cluster}-etcd-ca`, 'ca.crt'),
    cert: await text(`${cluster}-apiserver-etcd-client`, 'tls.crt'),
    key: await text(`${cluster}-apiserver-etcd-client`, 'tls.key'),
  };
}

/** One POST to the gateway of the member `pod` runs; rejects with etcd's answer on a non-2xx status. */
export function etcdGatewayCall(
  pod: V1Pod,
  tls: EtcdClientTls,
  { namespace, cluster }: ClusterRef,
  path: string,
  body: object,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return mtlsJsonCall({
    host: pod.status?.podIP ?? '',
    port: 2379,
    servername: `${pod.metadata?.name}.${cluster}-etcd.${namespace}.svc`,
    tls,
    method: 'POST',
    path,
    body,
    timeoutMs,
  });
}

/**
 * Streams the member's snapshot from the gateway (POST /v3/maintenance/snapshot, one JSON message a line,
 * each a base64 blob) and counts its bytes; nothing is written or checked. Rejects on a non-2xx status or
 * an error message in the stream.
 */
export function etcdSnapshotByteCount(
  pod: V1Pod,
  tls: EtcdClientTls,
  { namespace, cluster }: ClusterRef,
  timeoutMs = 120_000,
): Promise<number> {
  const where = `snapshot stream from ${pod.metadata?.name}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: pod.status?.podIP ?? '',
        port: 2379,
        method: 'POST',
        path: '/v3/maintenance/snapshot',
        servername: `${pod.metadata?.name}.${cluster}-etcd.${namespace}.svc`,
        ...tls,
        headers: { 'content-type': 'application/json' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let pending = '';
        let bytes = 0;
        const count = (line: string): void => {
          if (line.trim() === '') return;
          const message = JSON.parse(line) as { result?: { blob?: string }; error?: { message?: string } };
          if (message.error) throw new Error(`${where}: ${message.error.message ?? line.slice(0, 300)}`);
          bytes += Buffer.from(message.result?.blob ?? '', 'base64').length;
        };
        res.setEncoding('utf8');
        res.on('error', reject);
        res.on('data', (chunk: string) => {
          if ((res.statusCode ?? 0) >= 300) return void (pending += chunk);
          const lines = (pending + chunk).split('\n');
          pending = lines.pop() ?? '';
          try {
            lines.forEach(count);
          } catch (error) {
            req.destroy(error as Error);
          }
        });
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300)
            return reject(new Error(`${where}: ${res.statusCode} ${pending.slice(0, 300)}`));
          try {
            count(pending);
            resolve(bytes);
          } catch (error) {
            reject(error as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${where}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end('{}');
  });
}
