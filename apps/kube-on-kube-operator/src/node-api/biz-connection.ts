/**
 * How the operator reaches a biz-cluster's apiserver. Its kubeconfig (the
 * operator's own, minted by super-admin.ts) names status.endpoint: the
 * apiserver Service's DNS name inside the meta-cluster (or the LoadBalancer's
 * address), which resolves when the operator runs there, as the chart deploys
 * it. An operator run elsewhere
 * (a laptop, a test, the local pod runtime) can dial a Ready apiserver pod's
 * address instead, keeping the Service name for TLS: it is in the serving
 * certificate's SANs.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes } from '@kok/reconcile';
import type { Endpoint } from '../endpoint.ts';
import type { ClusterNames } from '../names.ts';
import { selectorLabels } from '../names.ts';

export interface BizTarget {
  names: ClusterNames;
  endpoint: Endpoint;
  /** The kubeconfig to dial with: the operator's short-lived one (super-admin.ts). */
  kubeconfig: string;
  /** The meta-cluster. */
  meta: KubeClient;
}

/** The kubeconfig to reach a biz-cluster with; throws saying why it cannot be reached. */
export type BizDialer = (target: BizTarget) => Promise<KubeConfig>;

/** `endpoint`: the kubeconfig as it is. `pod-ip`: a Ready apiserver pod's address (needs `list pods`). */
export type BizDialMode = 'endpoint' | 'pod-ip';

export const BIZ_DIAL_MODES: readonly BizDialMode[] = ['endpoint', 'pod-ip'];

export function bizDialer(mode: BizDialMode): BizDialer {
  return mode === 'pod-ip' ? dialApiServerPod : dialEndpoint;
}

const dialEndpoint: BizDialer = async ({ kubeconfig }) => {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return config;
};

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.podIP !== undefined &&
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

const dialApiServerPod: BizDialer = async (target) => {
  const { names, endpoint, meta } = target;
  const pods = await meta.list(builtinTypes.pod, {
    namespace: names.namespace,
    labelSelector: Object.entries(selectorLabels(names.cluster, 'kube-apiserver'))
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  });
  const pod = pods.items.find(isReady);
  const port = pod?.spec?.containers[0]?.ports?.find((p) => p.name === 'https')?.containerPort;
  if (!pod || !port)
    throw new Error(`no Ready kube-apiserver pod of Cluster ${names.namespace}/${names.cluster} to dial`);
  const ip = pod.status?.podIP ?? '';
  return redirected(
    await dialEndpoint(target),
    `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
    endpoint.host,
  );
};

/** `config` with every cluster's server replaced, verifying TLS against `serverName`. */
export function redirected(config: KubeConfig, server: string, serverName: string): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: config.getClusters().map((c) => ({ ...c, server, tlsServerName: serverName })),
    users: config.getUsers(),
    contexts: config.getContexts(),
    currentContext: config.getCurrentContext(),
  });
  return copy;
}
