/**
 * The one interface every managed component implements (Kamaji's shape):
 * render the desired objects, tell whether an observed object needs a write,
 * and say whether the component is Available at the desired version.
 */
import type { ClusterComponentName, ImageDigests } from '@kok/api';
import type { EtcdMembership } from '../etcd/membership-plan.ts';
import type { KubernetesObject, V1ObjectMeta, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { ResolvedCluster } from '../cluster-spec.ts';
import type { Endpoint } from '../endpoint.ts';
import type { ClusterNames, ComponentLabel } from '../names.ts';
import { clusterLabels } from '../names.ts';
import type { PkiMaterial } from '../pki/pki-material.ts';
import { contentHash } from '../template-hash.ts';

/** The components, their order and gates are API semantics (@kok/api cluster-components.ts). */
export type ComponentName = ClusterComponentName;

export interface RenderContext {
  cluster: ResolvedCluster;
  names: ClusterNames;
  /** The controller ownerReference to the Cluster every object carries. */
  owner: V1OwnerReference;
  endpoint: Endpoint;
  /** The PKI as Secrets; undefined until it can be made (it needs the apiserver Service's address). */
  pki: PkiMaterial | undefined;
  /**
   * With spec.etcd.external: the user's Secret of tlsSecretRef as read in this reconcile, once
   * checked (external-etcd.ts). The apiserver mounts it and rolls when its content changes.
   */
  externalEtcdSecret?: V1Secret;
  /** The etcd StatefulSet's size and how a member starting without data joins, from etcd's own member list. */
  etcdMembership?: EtcdMembership;
  /** Control-plane images run by digest (--image-digest); the others by tag. */
  imageDigests?: ImageDigests;
}

/** What a component reports about itself. */
export interface ComponentStatus {
  /** It serves: at least the required replicas are Ready (etcd: quorum). */
  available: boolean;
  /**
   * Available, the workload observed its latest generation, and every replica
   * runs the desired template at the desired version.
   */
  availableAtDesired: boolean;
  /** CamelCase, for the condition. */
  reason: string;
  message: string;
  replicas?: number;
  ready?: number;
  /** Version every replica runs; empty while mixed. */
  version?: string;
}

export interface ControlPlaneComponent {
  name: ComponentName;
  /** The Cluster condition this component reports, for the ones that are gates. */
  condition?: string;
  /** Components that must be Available at the desired version before this one is written. */
  dependsOn: readonly ComponentName[];
  /**
   * The component label its objects carry, which teardown goes by. Services and NetworkPolicies
   * have none: each of their objects carries the label of the workload it serves.
   */
  label?: ComponentLabel;
  /** Desired objects; undefined while an input it needs does not exist yet. */
  render(ctx: RenderContext): KubernetesObject[] | undefined;
  /** Whether `observed` must be rewritten to become `desired`. */
  needsUpdate(observed: KubernetesObject | undefined, desired: KubernetesObject): boolean;
  /** `observed[i]` is the live counterpart of `desired[i]`. */
  status(
    observed: readonly (KubernetesObject | undefined)[],
    desired: readonly KubernetesObject[],
    ctx: RenderContext,
  ): ComponentStatus;
}

/** Metadata of an object the operator owns. */
export function ownedMetadata(ctx: RenderContext, name: string, component: ComponentLabel): V1ObjectMeta {
  return {
    name,
    namespace: ctx.names.namespace,
    labels: clusterLabels(ctx.names.cluster, component),
    ownerReferences: [ctx.owner],
  };
}

/** Hash of the content of the named Secrets, so pods roll when their certificates are reissued. */
export function secretsHash(pki: PkiMaterial, secretNames: readonly string[]): string {
  const byName = new Map<string, V1Secret>(pki.secrets.map((s) => [s.metadata?.name ?? '', s]));
  return contentHash(secretNames.map((name) => byName.get(name)?.data ?? null));
}

/** The status of a component whose objects only have to exist as desired (Secrets, Services). */
export function objectsStatus(
  what: string,
  observed: readonly (KubernetesObject | undefined)[],
  desired: readonly KubernetesObject[],
  needsUpdate: ControlPlaneComponent['needsUpdate'],
): ComponentStatus {
  const missing = desired.filter((_, i) => observed[i] === undefined).map((d) => d.metadata?.name);
  const stale = desired
    .filter((d, i) => observed[i] !== undefined && needsUpdate(observed[i], d))
    .map((d) => d.metadata?.name);
  if (missing.length > 0)
    return {
      available: false,
      availableAtDesired: false,
      reason: 'Missing',
      message: `${what} not created yet: ${missing.join(', ')}`,
    };
  if (stale.length > 0)
    return {
      available: true,
      availableAtDesired: false,
      reason: 'Updating',
      message: `${what} being updated: ${stale.join(', ')}`,
    };
  return {
    available: true,
    availableAtDesired: true,
    reason: 'AsDesired',
    message: `${desired.length} ${what} as desired`,
  };
}
