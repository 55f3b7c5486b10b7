/**
 * Which cluster and namespace a command talks to, chosen the way kubectl
 * chooses: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context,
 * else the current-context; -n, else the context's namespace, else `default`.
 */
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
  };
}
