/**
 * A kube-proxy for the machine: fixed ports that forward TCP to a Cluster's
 * Ready kube-apiservers, whatever addresses they have now. Clients outside the
 * meta-cluster's pod network (kubectl on the machine, real hosts of another
 * rig) keep one server URL while apiserver pods are replaced during an
 * upgrade; TLS passes through untouched, so clients verify the apiserver's
 * own name as usual.
 *
 * It reaches the apiservers one of two ways: at their pod addresses, where the
 * machine routes them (the local pod runtime's pods listen on loopback
 * addresses), or through their Service's NodePort on the meta-cluster's Ready
 * Nodes, where pod addresses live in the meta hosts' network namespaces and
 * only the Nodes' own addresses are reachable (real containers).
 */
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Labels } from '@kok/api';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface ApiServerProxy {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The URL on another of its listen addresses (e.g. a host rig's gateway, for real hosts). */
  urlOn(address: string): string;
  /** The `host:port` addresses it forwards to now. */
  backends(): readonly string[];
  close(): Promise<void>;
}

/** `pod-ip`: each Ready apiserver pod's address. `node-port`: the apiserver Service's NodePort on each Ready Node. */
export type ApiServerReach = 'pod-ip' | 'node-port';

const isReadyPod = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.podIP !== undefined &&
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** `podIP:port` of each Ready, not terminating apiserver pod (its `https` container port). Pure. */
export function podBackends(pods: readonly V1Pod[]): string[] {
  return pods.filter(isReadyPod).flatMap((pod) => {
    const port = pod.spec?.containers[0]?.ports?.find((p) => p.name === 'https')?.containerPort;
    return port ? [`${pod.status?.podIP}:${port}`] : [];
  });
}

/**
 * `InternalIP:nodePort` of each Ready, schedulable Node for the Service's `https` port; none while the
 * Service has no NodePort (kube-proxy on every Node carries it to wherever an apiserver runs). Pure.
 */
export function nodePortBackends(service: V1Service | undefined, nodes: readonly V1Node[]): string[] {
  const nodePort = service?.spec?.ports?.find((p) => p.name === 'https')?.nodePort;
  if (!nodePort) return [];
  return nodes
    .filter(
      (node) =>
        !node.spec?.unschedulable &&
        node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    )
    .flatMap((node) => {
      const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      return address ? [`${address}:${nodePort}`] : [];
    });
}

export async function startApiServerProxy(options: {
  readonly meta: KubeConfig;
  readonly namespace: string;
  readonly cluster: string;
  /** How the machine reaches the apiservers. Default `pod-ip`. */
  readonly reach?: ApiServerReach;
  readonly port?: number;
  /** Addresses it listens on besides 127.0.0.1. */
  readonly extraAddresses?: readonly string[];
  /** Their port. Default: a free one on each. */
  readonly extraAddressPort?: number;
  readonly refreshMs?: number;
}): Promise<ApiServerProxy> {
  const core = options.meta.makeApiClient(CoreV1Api);
  const labelSelector = `${Labels.cluster}=${options.cluster},${Labels.clusterComponent}=kube-apiserver`;
  const observe = async (): Promise<string[]> => {
    if (options.reach !== 'node-port')
      return podBackends(
        (await core.listNamespacedPod({ namespace: options.namespace, labelSelector })).items,
      );
    // The operator names the apiserver's Service <cluster>-apiserver.
    const [services, nodes] = await Promise.all([
      core.listNamespacedService({ namespace: options.namespace, labelSelector }),
      core.listNode(),
    ]);
    return nodePortBackends(
      services.items.find((s) => s.metadata?.name === `${options.cluster}-apiserver`),
      nodes.items,
    );
  };
  let backends: string[] = [];
  let next = 0;
  const refresh = async () => {
    try {
      backends = await observe();
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

/** `kubeconfig` with each cluster reached at `server` (a proxy's URL), still verifying the apiserver's own name. */
export function kubeconfigThroughProxy(kubeconfig: string, server: string): string {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const exported = JSON.parse(config.exportConfig()) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  for (const entry of exported.clusters) {
    entry.cluster['tls-server-name'] = new URL(entry.cluster['server'] ?? '').hostname;
    entry.cluster['server'] = server;
  }
  return JSON.stringify(exported, null, 2);
}
