/**
 * etcd's JSON gateway as a test reaches it: with the apiserver's etcd client
 * certificate of a Cluster booted by real-boot.ts, at a member's pod address,
 * verifying the member under its DNS name (what its serving certificate names).
 */
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
