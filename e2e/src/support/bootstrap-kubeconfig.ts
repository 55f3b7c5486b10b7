/**
 * A provisioner's share of joining hosts: a bootstrap token Secret in
 * kube-system and a kubeconfig that authenticates with it (the cluster entry
 * of `kubeConfig` as it is). Hosts ask for their own certificates with it.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import { createBootstrapToken } from '@kok/pki';
import { builtinTypes } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';

export async function createBootstrapKubeconfig(
  client: KubeClient,
  kubeConfig: KubeConfig,
  options: { ttlSeconds: number; description: string },
): Promise<string> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const token = createBootstrapToken(options);
  await client.create(builtinTypes.secret, token.secret as V1Secret);
  const bootstrap = new KubeConfig();
  bootstrap.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'bootstrap', token: token.token }],
    contexts: [{ name: 'bootstrap', cluster: cluster.name, user: 'bootstrap' }],
    currentContext: 'bootstrap',
  });
  return bootstrap.exportConfig();
}
