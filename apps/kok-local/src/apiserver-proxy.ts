/**
 * A kube-proxy for the host: one fixed loopback port that forwards TCP to the
 * Ready kube-apiserver pods of a Cluster, whatever addresses the local pod
 * runtime gave them. Host processes (node agents, kwok, kubectl) keep one
 * server URL while apiserver pods are replaced during an upgrade; TLS passes
 * through untouched, so clients verify the Service name as usual.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Labels } from '@kok/api';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface ApiServerProxy {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The URL on another of its listen addresses (e.g. a host rig's gateway, for real hosts). */
  urlOn(address: string): string;
  /** The pod addresses it forwards to now. */
  backends(): readonly string[];
  close(): Promise<void>;
}

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.podIP !== undefined &&
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

export async function startApiServerProxy(options: {
  readonly meta: KubeConfig;
  readonly namespace: string;
  readonly cluster: string;
  readonly port?: number;
  /** Addresses it listens on besides 127.0.0.1. */
  readonly extraAddresses?: readonly string[];
  /** Their port. Default: a free one on each. */
  readonly extraAddressPort?: number;
  readonly refreshMs?: number;
}): Promise<ApiServerProxy> {
  const core = options.meta.makeApiClient(CoreV1Api);
  const labelSelector = `${Labels.cluster}=${options.cluster},${Labels.clusterComponent}=kube-apiserver`;
  let backends: string[] = [];
  let next = 0;
  const refresh = async () => {
    try {
      const pods = await core.listNamespacedPod({ namespace: options.namespace, labelSelector });
      backends = pods.items.filter(isReady).flatMap((pod) => {
        const port = pod.spec?.containers[0]?.ports?.find((p) => p.name === 'https')?.containerPort;
        return port ? [`${pod.status?.podIP}:${port}`] : [];
      });
    } catch {
      // Keep the last known backends while the meta apiserver is unreachable.
    }
  };
  await refresh();
  // Often: a deleted pod must leave the rotation before the runtime stops its process.
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 200);
  timer.unref();

  /** Dials the backends in turn, starting after the last one used; the first that accepts wins. */
  const dial = (client: Socket, attempt = 0) => {
    const candidates = backends;
    if (attempt >= Math.max(1, candidates.length)) {
      client.destroy();
      return;
    }
    const backend = candidates[next++ % Math.max(1, candidates.length)];
    if (!backend) {
      client.destroy();
      return;
    }
    const [host, port] = backend.split(':') as [string, string];
    const upstream = connect({ host, port: Number(port) });
    upstream.once('error', () => {
      if (upstream.bytesRead === 0 && upstream.bytesWritten === 0) dial(client, attempt + 1);
      else client.destroy();
    });
    upstream.once('connect', () => {
      client.pipe(upstream).pipe(client);
      client.resume();
      client.once('error', () => upstream.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  };

  const open = new Set<Socket>();
  const listen = async (address: string, port: number): Promise<Server> => {
    const server = createServer({ pauseOnConnect: true }, (client) => {
      open.add(client);
      client.once('close', () => open.delete(client));
      client.once('error', () => client.destroy());
      dial(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, resolve);
    });
    return server;
  };
  const servers = new Map<string, Server>([['127.0.0.1', await listen('127.0.0.1', options.port ?? 0)]]);
  for (const address of options.extraAddresses ?? [])
    servers.set(address, await listen(address, options.extraAddressPort ?? 0));
  const urlOn = (address: string): string => {
    const server = servers.get(address);
    if (!server) throw new Error(`the apiserver proxy does not listen on ${address}`);
    return `https://${address}:${(server.address() as AddressInfo).port}`;
  };
  return {
    url: urlOn('127.0.0.1'),
    urlOn,
    backends: () => backends,
    close: async () => {
      clearInterval(timer);
      const closed = Promise.all(
        [...servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
      // Watches never end by themselves.
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
