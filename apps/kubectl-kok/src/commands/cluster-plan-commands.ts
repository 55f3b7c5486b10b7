/** cluster plan <name> --version V: reads the Cluster and its kubelets, writes nothing. */
import { KubeConfig } from '@kubernetes/client-node';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { CommandError } from '../cli-errors.ts';
import { clusterPlanView } from '../cluster-plan.ts';
import type { KubeletsObserved } from '../cluster-plan.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import type { ClusterObject } from '../resources.ts';
import { renderClusterPlan } from '../render/cluster-plan.ts';
import { renderDocument } from '../render/documents.ts';
import { adminKubeconfig, getCluster } from './cluster-commands.ts';
import type { CommandIo } from './io.ts';

/** How long the biz-cluster's apiserver gets to answer; its endpoint may only resolve inside the meta-cluster. */
const BIZ_REQUEST_TIMEOUT_MS = 10_000;

export async function clusterPlan(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const targetVersion = flags.targetVersion;
  if (targetVersion === undefined) throw new CommandError('cluster plan needs --version');
  const cluster = await getCluster(connection, name);
  const view = clusterPlanView(cluster, targetVersion, await readKubelets(connection, cluster));
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(view, flags.output));
  else io.stdout(renderClusterPlan(view));
}

/**
 * The kubelet version of every Node of the biz-cluster, read with the admin
 * kubeconfig the operator stored for it; when that fails, why, in words.
 */
async function readKubelets(connection: Connection, cluster: ClusterObject): Promise<KubeletsObserved> {
  let biz: KubeClient;
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(await adminKubeconfig(connection, cluster));
    biz = new KubeClient(kubeConfig, { userAgent: 'kubectl-kok', requestTimeoutMs: BIZ_REQUEST_TIMEOUT_MS });
  } catch (error) {
    return { readable: false, reason: (error as Error).message };
  }
  const server = biz.kubeConfig.getCurrentCluster()?.server ?? '';
  try {
    const { items } = await biz.list(builtinTypes.node);
    return {
      readable: true,
      nodes: items.map((node) => ({
        node: node.metadata?.name ?? '',
        kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
      })),
    };
  } catch (error) {
    return {
      readable: false,
      reason: `listing Nodes at ${server} (the Cluster's admin kubeconfig) failed: ${(error as Error).message}`,
    };
  } finally {
    biz.close();
  }
}
