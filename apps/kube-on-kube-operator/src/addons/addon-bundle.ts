/**
 * What the add-ons of a Cluster are in its biz-cluster: the objects to apply
 * for each enabled add-on, the objects of each disabled one to remove, and
 * why an enabled one cannot be rendered (no CoreDNS version paired with the
 * Cluster's minor; no address for kube-proxy to dial). Pure.
 */
import type { KubernetesObject, V1DaemonSet } from '@kubernetes/client-node';
import { coreDnsVersionFor } from '@kok/api';
import type { ResourceType } from '@kok/reconcile';
import { resourceType } from '@kok/reconcile';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { contentHash } from '../template-hash.ts';
import { coreDnsObjects } from './coredns.ts';
import { kubeProxyObjects } from './kube-proxy.ts';

export type AddonName = 'coreDNS' | 'kubeProxy';

export interface AddonBundle {
  /** Objects of the enabled add-ons that can be rendered, dependencies first (RBAC and config before workloads). */
  readonly apply: readonly KubernetesObject[];
  /** Objects of the disabled add-ons: deleted where they exist. */
  readonly remove: readonly KubernetesObject[];
  /** The version each rendered add-on runs. */
  readonly versions: Readonly<Partial<Record<AddonName, string>>>;
  /** Enabled add-ons that are not rendered, and why: they stay as they are in the biz-cluster. */
  readonly blocked: Readonly<Partial<Record<AddonName, string>>>;
  /** Content hash of all of it: applied once per hash. */
  readonly hash: string;
}

export function addonBundle(cluster: ResolvedCluster): AddonBundle {
  const apply: KubernetesObject[] = [];
  const remove: KubernetesObject[] = [];
  const versions: Partial<Record<AddonName, string>> = {};
  const blocked: Partial<Record<AddonName, string>> = {};

  const coreDnsVersion = coreDnsVersionFor(cluster.version) ?? 'v0.0.0';
  if (!cluster.addons.coreDNS) remove.push(...coreDnsObjects(cluster, coreDnsVersion));
  else if (coreDnsVersionFor(cluster.version) === undefined)
    blocked.coreDNS = `this operator pairs no CoreDNS version with ${cluster.version}`;
  else {
    apply.push(...coreDnsObjects(cluster, coreDnsVersion));
    versions.coreDNS = coreDnsVersion;
  }

  const address = cluster.apiServer.advertiseAddress;
  if (!cluster.addons.kubeProxy) remove.push(...kubeProxyObjects(cluster, address ?? '0.0.0.0'));
  else if (address === undefined)
    blocked.kubeProxy =
      'kube-proxy needs an address of the apiserver that nodes reach: set spec.controlPlane.apiServer.advertiseAddress, or spec.addons.kubeProxy.enabled: false';
  else {
    apply.push(...kubeProxyObjects(cluster, address));
    versions.kubeProxy = cluster.version;
  }

  // Removal needs names only: what the hash records is which add-ons are gone, not their contents.
  const removed = remove.map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`);
  return { apply, remove, versions, blocked, hash: contentHash({ apply, removed, blocked }) };
}

export const daemonSetType = resourceType<V1DaemonSet>('apps/v1', 'DaemonSet', 'daemonsets', true);

const types: Readonly<Record<string, ResourceType>> = {
  ServiceAccount: resourceType('v1', 'ServiceAccount', 'serviceaccounts', true),
  ConfigMap: resourceType('v1', 'ConfigMap', 'configmaps', true),
  Service: resourceType('v1', 'Service', 'services', true),
  Deployment: resourceType('apps/v1', 'Deployment', 'deployments', true),
  DaemonSet: daemonSetType,
  ClusterRole: resourceType('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: resourceType(
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    'clusterrolebindings',
    false,
  ),
};

/** The REST type of an add-on object. */
export function addonTypeOf(obj: KubernetesObject): ResourceType {
  const type = obj.kind ? types[obj.kind] : undefined;
  if (!type) throw new Error(`the add-ons have no type for kind ${obj.kind ?? '(none)'}`);
  return type;
}
