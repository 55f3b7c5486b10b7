/**
 * What the Cluster up/down benchmarks (cluster-up-down on real processes, cluster-up-real on real
 * containers) measure alike: the gates' times as a Cluster's status records them, and what the operator
 * left in the Cluster's namespace after a delete.
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes, isNotFound, resourceType } from '@kok/reconcile';
import { eventually } from '@kok/testing';

export const GATES = [
  'EtcdAvailable',
  'APIServerAvailable',
  'ControllerManagerAvailable',
  'SchedulerAvailable',
];

/** The kinds the operator makes for a Cluster in its namespace, each of which must be gone after down. */
const OWNED_KINDS = {
  pods: builtinTypes.pod,
  deployments: builtinTypes.deployment,
  statefulSets: resourceType('apps/v1', 'StatefulSet', 'statefulsets', true),
  services: builtinTypes.service,
  secrets: builtinTypes.secret,
  configMaps: builtinTypes.configMap,
  persistentVolumeClaims: resourceType('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true),
};
/** What the apiserver puts in every namespace by itself. */
const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export const clusterRef = (namespace: string) => ({
  group: 'clusters.kok.dev',
  version: 'v1alpha1',
  namespace,
  plural: 'clusters',
});

/**
 * Seconds each of GATES took, as Cluster `name`'s status records them, once all are there (the
 * controller-manager's and scheduler's may land just after the apiserver answers).
 */
export async function gateSecondsOf(
  clusters: CustomObjectsApi,
  namespace: string,
  name: string,
): Promise<number[]> {
  const milliseconds = await eventually(
    `${name}: every gate timed in its status`,
    async () => {
      const cluster = (await clusters.getNamespacedCustomObject({ ...clusterRef(namespace), name })) as {
        status?: { gates?: { name: string; durationMilliseconds?: number }[] };
      };
      const timed = GATES.map(
        (gate) => cluster.status?.gates?.find((g) => g.name === gate)?.durationMilliseconds,
      );
      return timed.every((ms) => ms !== undefined) ? timed : undefined;
    },
    120_000,
    250,
  );
  return milliseconds.map((ms) => ms / 1000);
}

/**
 * Whether Cluster `name` is gone, and how many objects of each kind the operator makes are left in its
 * namespace (the apiserver's own root CA ConfigMap aside).
 */
export async function leftAfterDelete(
  clusters: CustomObjectsApi,
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ clusterGone: boolean; left: Record<string, number> }> {
  const clusterGone = await clusters
    .getNamespacedCustomObject({ ...clusterRef(namespace), name })
    .then(() => false)
    .catch((error: unknown) => isNotFound(error) || (error as { code?: number }).code === 404);
  const left: Record<string, number> = {};
  for (const [kind, type] of Object.entries(OWNED_KINDS)) {
    const { items } = await client.list(type, { namespace });
    left[kind] = items.filter((o) => o.metadata?.name !== ROOT_CA_CONFIGMAP).length;
  }
  return { clusterGone, left };
}
