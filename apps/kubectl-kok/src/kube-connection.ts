/**
 * Which cluster and namespace a command talks to, chosen the way kubectl
 * chooses: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context,
 * else the current-context; -n, else the context's namespace, else `default`.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '@kok/reconcile';
import { CommandError } from './cli-errors.ts';
import type { GlobalFlags } from './command-line.ts';

export interface Connection {
  client: KubeClient;
  /** The namespace namespaced kinds are read from. */
  namespace: string;
  /** The apiserver URL, for messages. */
  server: string;
  /** The kubeconfig the connection was made from, its current context selected. */
  kubeConfig: KubeConfig;
}

/** The apiserver of a connection as a host must know it: where it is and the CA its certificate chains to. */
export interface ApiServerTrust {
  /** Name of the kubeconfig's cluster entry. */
  clusterName: string;
  server: string;
  certificateAuthorityPem: string;
}

export function loadKubeConfig(flags: GlobalFlags): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (flags.kubeconfig !== undefined) kubeConfig.loadFromFile(flags.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    const where = flags.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    throw new CommandError(
      `cannot load kubeconfig ${where}: ${(error as Error).message}; pass a readable file with --kubeconfig`,
    );
  }
  if (flags.context !== undefined) {
    if (!kubeConfig.getContextObject(flags.context)) {
      const known = kubeConfig.getContexts().map((context) => context.name);
      throw new CommandError(
        `context "${flags.context}" not found in the kubeconfig (it has: ${known.join(', ') || 'none'}); ` +
          'list them with: kubectl config get-contexts',
      );
    }
    kubeConfig.setCurrentContext(flags.context);
  }
  if (!kubeConfig.getCurrentCluster())
    throw new CommandError(
      'the kubeconfig has no current cluster: pick a context with --context or kubectl config use-context',
    );
  return kubeConfig;
}

export function connect(flags: GlobalFlags): Connection {
  const kubeConfig = loadKubeConfig(flags);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return {
    client: new KubeClient(kubeConfig, { userAgent: 'kubectl-kok', fieldManager: 'kubectl-kok' }),
    namespace: flags.namespace ?? contextNamespace ?? 'default',
    server: kubeConfig.getCurrentCluster()?.server ?? '',
    kubeConfig,
  };
}

/**
 * The server and CA of the current cluster entry (certificate-authority-data,
 * else the certificate-authority file), for handing on to a host.
 */
export function apiServerTrust(kubeConfig: KubeConfig): ApiServerTrust {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new CommandError('the kubeconfig has no current cluster');
  let pem: string | undefined;
  if (cluster.caData) pem = Buffer.from(cluster.caData, 'base64').toString('utf8');
  else if (cluster.caFile) {
    try {
      pem = readFileSync(cluster.caFile, 'utf8');
    } catch (error) {
      throw new CommandError(
        `cannot read the CA file ${cluster.caFile} of kubeconfig cluster "${cluster.name}": ${(error as Error).message}`,
      );
    }
  }
  if (!pem?.includes('-----BEGIN CERTIFICATE-----'))
    throw new CommandError(
      `kubeconfig cluster "${cluster.name}" names no CA (certificate-authority-data or certificate-authority), ` +
        'and a host must know it to trust the apiserver: use a kubeconfig that has it ' +
        '(kubectl kok cluster kubeconfig <cluster> prints the admin kubeconfig of a biz-cluster)',
    );
  if (!cluster.server.startsWith('https://'))
    throw new CommandError(
      `kubeconfig cluster "${cluster.name}" has server ${cluster.server}: kubelets join only over https`,
    );
  return { clusterName: cluster.name, server: cluster.server, certificateAuthorityPem: pem };
}
