/** cluster list | get <name> | kubeconfig <name> */
import { ClusterResource } from '@kok/api';
import { explainApiError } from '../api-error-messages.ts';
import { CommandError } from '../cli-errors.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { clusterType, secretType } from '../resources.ts';
import type { ClusterObject } from '../resources.ts';
import { renderClusterDescription } from '../render/cluster-describe.ts';
import { asList, renderDocument } from '../render/documents.ts';
import { renderList } from '../render/printer-columns.ts';
import type { CommandIo } from './io.ts';
import { clusterTarget } from './targets.ts';
import { withoutManagedFields } from './objects.ts';

export async function clusterList(connection: Connection, flags: CommandFlags, io: CommandIo): Promise<void> {
  const namespace = flags.allNamespaces ? undefined : connection.namespace;
  let items: ClusterObject[];
  try {
    ({ items } = await connection.client.list(clusterType, namespace === undefined ? {} : { namespace }));
  } catch (error) {
    throw explainApiError(error, clusterTarget(undefined, namespace), connection.server);
  }
  items.sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    ),
  );
  if (flags.output === 'json' || flags.output === 'yaml') {
    io.stdout(renderDocument(asList(items.map(withoutManagedFields)), flags.output));
    return;
  }
  if (items.length === 0) {
    io.stderr(
      namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`,
    );
    return;
  }
  io.stdout(
    renderList(items, ClusterResource.printerColumns, {
      wide: flags.output === 'wide',
      withNamespace: flags.allNamespaces,
      now: io.now(),
    }),
  );
}

export async function getCluster(connection: Connection, name: string): Promise<ClusterObject> {
  try {
    return await connection.client.get(clusterType, { namespace: connection.namespace, name });
  } catch (error) {
    throw explainApiError(error, clusterTarget(name, connection.namespace), connection.server);
  }
}

export async function clusterGet(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const cluster = await getCluster(connection, name);
  if (flags.output === 'json' || flags.output === 'yaml')
    io.stdout(renderDocument(withoutManagedFields(cluster), flags.output));
  else io.stdout(renderClusterDescription(cluster, io.now()));
}

/**
 * The admin kubeconfig the kube-on-kube operator stored for the Cluster
 * (status.kubeconfigSecretRef); a CommandError saying what is missing otherwise.
 */
export async function adminKubeconfig(connection: Connection, cluster: ClusterObject): Promise<string> {
  const name = cluster.metadata?.name ?? '';
  const namespace = connection.namespace;
  const ref = cluster.status?.kubeconfigSecretRef;
  if (!ref)
    throw new CommandError(
      `Cluster "${name}" has no kubeconfig yet (status.kubeconfigSecretRef is empty): the kube-on-kube operator ` +
        `writes it once the control plane is up; follow it with: kubectl get clusters ${name} -n ${namespace} -w`,
    );
  let data: Record<string, string> | undefined;
  try {
    data = (await connection.client.get(secretType, { namespace, name: ref.name })).data;
  } catch (error) {
    throw explainApiError(
      error,
      { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', name: ref.name, namespace },
      connection.server,
    );
  }
  const encoded = data?.[ref.key];
  if (encoded === undefined)
    throw new CommandError(
      `Secret "${ref.name}" in namespace "${namespace}" has no key "${ref.key}" (named by Cluster "${name}" ` +
        `status.kubeconfigSecretRef); its keys: ${Object.keys(data ?? {}).join(', ') || 'none'}`,
    );
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** Prints the admin kubeconfig the kube-on-kube operator stored for the Cluster. */
export async function clusterKubeconfig(connection: Connection, name: string, io: CommandIo): Promise<void> {
  const kubeconfig = await adminKubeconfig(connection, await getCluster(connection, name));
  io.stdout(kubeconfig.endsWith('\n') ? kubeconfig : kubeconfig + '\n');
}
