import type { V1Service } from '@kubernetes/client-node';
import type { ResolvedCluster } from './cluster-spec.ts';
import type { ClusterNames } from './names.ts';

/** Where clients reach the biz-cluster apiserver. */
export interface Endpoint {
  /** DNS name or IP address. */
  host: string;
  port: number;
  /** `https://host:port`. */
  url: string;
}

/**
 * The apiserver endpoint: the LoadBalancer's address once the meta-cluster
 * assigned one, otherwise the Service's DNS name inside the meta-cluster.
 */
export function endpointOf(
  cluster: ResolvedCluster,
  names: ClusterNames,
  service: V1Service | undefined,
): Endpoint {
  const port = cluster.apiServer.service.port;
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  const host =
    cluster.apiServer.service.type === 'LoadBalancer' && (ingress?.ip || ingress?.hostname)
      ? ingress.ip || ingress.hostname || ''
      : names.apiServerServiceHost;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return { host, port, url: `https://${hostInUrl}:${port}` };
}
