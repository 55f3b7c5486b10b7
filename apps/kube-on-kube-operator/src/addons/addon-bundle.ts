/**
 * What the add-ons of a Cluster are in its biz-cluster, one plan per add-on:
 * the objects to apply when it is enabled, the objects to remove (if this
 * operator made them) when it is disabled, or why an enabled one cannot be
 * rendered (no CoreDNS version paired with the Cluster's minor, no room for
 * kube-dns in the service CIDR, no address for kube-proxy to dial). Pure.
 */
import type { KubernetesObject, V1DaemonSet, V1ServiceAccount } from '@kubernetes/client-node';
import { coreDnsVersionFor } from '@kok/api';
import {
  COREDNS_NAME,
  coreDnsObjects,
  KUBE_PROXY_NAME,
  kubeProxyObjects,
  kubeProxyServer,
} from '@kok/cluster-addons';
import type { ResourceType } from '@kok/reconcile';
import { builtinTypes, resourceType } from '@kok/reconcile';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { APISERVER_PORT } from '../components/services.ts';
import { clusterDnsIP } from '../network.ts';
import { contentHash } from '../template-hash.ts';

export type AddonName = 'coreDNS' | 'kubeProxy';
export const ADDON_NAMES: readonly AddonName[] = ['coreDNS', 'kubeProxy'];

/** The value of the add-on label on its objects, and its workload's name. */
export const ADDON_OBJECT_NAMES: Readonly<Record<AddonName, string>> = {
  coreDNS: COREDNS_NAME,
  kubeProxy: KUBE_PROXY_NAME,
};

export type AddonPlan =
  /** Its objects, dependencies first (RBAC and config before the workload, the workload last but the Service). */
  | {
      readonly kind: 'apply';
      readonly objects: readonly KubernetesObject[];
      readonly version: string;
      readonly image: string;
    }
  /** Disabled: these objects go, where this operator made them. */
  | { readonly kind: 'remove'; readonly objects: readonly KubernetesObject[] }
  /** Enabled but not rendered: what runs stays as it is. */
  | { readonly kind: 'blocked'; readonly reason: string };

export interface AddonBundle {
  readonly plans: Readonly<Record<AddonName, AddonPlan>>;
  /** Content hash of all of it: what changed since the last apply (for the log and the event). */
  readonly hash: string;
}

export function addonBundle(cluster: ResolvedCluster): AddonBundle {
  const plans: Record<AddonName, AddonPlan> = {
    coreDNS: coreDnsPlan(cluster),
    kubeProxy: kubeProxyPlan(cluster),
  };
  // Removal needs names only: what the hash records is which add-ons are gone, not their contents.
  const hashed = Object.fromEntries(
    Object.entries(plans).map(([name, plan]) => [
      name,
      plan.kind === 'remove' ? { kind: 'remove', objects: plan.objects.map(refOf) } : plan,
    ]),
  );
  return { plans, hash: contentHash(hashed) };
}

function coreDnsPlan(cluster: ResolvedCluster): AddonPlan {
  const version = coreDnsVersionFor(cluster.version);
  if (!cluster.addons.coreDNS)
    return { kind: 'remove', objects: coreDnsObjects(cluster, 'v0.0.0', undefined) };
  if (version === undefined)
    return { kind: 'blocked', reason: `this operator pairs no CoreDNS version with ${cluster.version}` };
  let clusterIP: string;
  try {
    clusterIP = clusterDnsIP(cluster.network.serviceCIDR);
  } catch {
    return {
      kind: 'blocked',
      reason: `spec.network.serviceCIDR ${cluster.network.serviceCIDR} has no tenth address for kube-dns`,
    };
  }
  return withWorkloadImage(coreDnsObjects(cluster, version, clusterIP), version);
}

function kubeProxyPlan(cluster: ResolvedCluster): AddonPlan {
  const address = cluster.apiServer.advertiseAddress;
  if (!cluster.addons.kubeProxy)
    return { kind: 'remove', objects: kubeProxyObjects(cluster, kubeProxyServer('0.0.0.0', APISERVER_PORT)) };
  if (address === undefined)
    return {
      kind: 'blocked',
      reason:
        'kube-proxy needs an address of the apiserver that nodes reach: set spec.controlPlane.apiServer.advertiseAddress, or spec.addons.kubeProxy.enabled: false',
    };
  return withWorkloadImage(
    kubeProxyObjects(cluster, kubeProxyServer(address, APISERVER_PORT)),
    cluster.version,
  );
}

function withWorkloadImage(objects: KubernetesObject[], version: string): AddonPlan {
  const workload = objects.find((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet') as
    { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined;
  return {
    kind: 'apply',
    objects,
    version,
    image: workload?.spec?.template?.spec?.containers?.[0]?.image ?? '',
  };
}

const refOf = (o: KubernetesObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export const daemonSetType = resourceType<V1DaemonSet>('apps/v1', 'DaemonSet', 'daemonsets', true);

const types: Readonly<Record<string, ResourceType>> = {
  ServiceAccount: resourceType<V1ServiceAccount>('v1', 'ServiceAccount', 'serviceaccounts', true),
  ConfigMap: builtinTypes.configMap,
  Service: builtinTypes.service,
  Deployment: builtinTypes.deployment,
  DaemonSet: daemonSetType,
  ClusterRole: builtinTypes.clusterRole,
  ClusterRoleBinding: builtinTypes.clusterRoleBinding,
};

/** The REST type of an add-on object. */
export function addonTypeOf(obj: KubernetesObject): ResourceType {
  const type = obj.kind ? types[obj.kind] : undefined;
  if (!type) throw new Error(`the add-ons have no type for kind ${obj.kind ?? '(none)'}`);
  return type;
}
