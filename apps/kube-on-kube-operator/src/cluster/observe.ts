/**
 * What one pass over a Cluster reads: the caches, and the few objects no
 * cache holds (the user's external-etcd Secret, etcd claims about to be
 * mounted, long-lived PKI Secrets that lost their label; before a minor
 * upgrade, observe-kubelets.ts reads the biz-cluster's Nodes). Reads only:
 * every decision about what was read is the plan's (guards.ts, plan.ts).
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { ImageDigests, KubeletsObserved } from '@kok/api';
import type { Informer, KubeClient } from '@kok/reconcile';
import { apiReader } from '@kok/reconcile';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { resolveCluster } from '../cluster-spec.ts';
import type { NetworkPolicy } from '../components/network-policies.ts';
import type { Endpoint } from '../endpoint.ts';
import { endpointOf } from '../endpoint.ts';
import { etcdClaimNames } from '../etcd-data-guard.ts';
import type { EtcdObservation, EtcdObserver } from '../etcd/member-observation.ts';
import { etcdClientTlsOf } from '../etcd/member-observation.ts';
import type { EtcdClientTls } from '../etcd/member-api.ts';
import type { EtcdMembership } from '../etcd/membership-plan.ts';
import type { ClusterNames } from '../names.ts';
import { clusterNames } from '../names.ts';
import type { PkiSpec } from '../pki/certificates.ts';
import { pkiSpecs } from '../pki/certificates.ts';
import { isLongLived } from '../pki/pki-guard.ts';
import type { ClusterObject } from '../resource-types.ts';
import { persistentVolumeClaimType, secretType } from '../resource-types.ts';

export interface ClusterCaches {
  clusters: Informer<ClusterObject>;
  secrets: Informer<V1Secret>;
  services: Informer<V1Service>;
  deployments: Informer<V1Deployment>;
  statefulSets: Informer<V1StatefulSet>;
  networkPolicies: Informer<NetworkPolicy>;
}

/** The live counterpart of a desired object, or undefined when there is none. */
export type LiveObjects = (desired: KubernetesObject) => KubernetesObject | undefined;

export interface ObservedPki {
  specs: readonly PkiSpec[];
  /** The Secret of each spec's name that exists, whoever controls it. */
  found: ReadonlyMap<string, V1Secret>;
  /** Those of `found` read from the apiserver because the cache lacks them (their label lost). */
  unlabelled: readonly string[];
}

export interface ObservedCluster {
  cluster: ClusterObject;
  resolved: ResolvedCluster;
  names: ClusterNames;
  endpoint: Endpoint;
  /** The biz-cluster's kubelets, read only while a minor upgrade waits to begin (observe-kubelets.ts). */
  kubelets?: KubeletsObserved;
  /** With spec.etcd.external: the user's Secret of tlsSecretRef, undefined when it does not exist. */
  externalEtcdSecret?: V1Secret | undefined;
  /** The operator's --image-digest table: control-plane images it runs by digest. */
  imageDigests: ImageDigests;
  /** The etcd StatefulSet exists. */
  etcdStatefulSetExists: boolean;
  /** Its spec.replicas: the size a running etcd keeps while no member answers. */
  etcdStatefulSetReplicas?: number;
  /** It has fewer pods Ready than it wants: a member may be down, though the last read of etcd predates it. */
  etcdPodsNotReady: boolean;
  /**
   * The claims of the members the StatefulSet is about to make (bring-up, a new member, the
   * StatefulSet gone), which it would mount whoever made them; read only then.
   */
  newMemberClaims?: { names: readonly string[]; claims: readonly (V1PersistentVolumeClaim | undefined)[] };
  /** Read once the apiserver Service has its address: the PKI names it. */
  pki?: ObservedPki;
  /** What the Cluster's etcd says of its members (read with its StatefulSet and the client certificate there); undefined when no member answered. */
  etcd?: EtcdObservation;
  /** The client TLS `etcd` was read with. */
  etcdTls?: EtcdClientTls;
  /** The etcd StatefulSet's size and join Secret, once the membership pass decided them (etcd/membership.ts). */
  etcdMembership?: EtcdMembership;
  /** With a node tier: the node-operator Deployment of this Cluster's name, if there is one. */
  nodeTier?: { nodeOperatorDeployment?: V1Deployment };
  live: LiveObjects;
}

export async function observeCluster(
  client: KubeClient,
  caches: ClusterCaches,
  cluster: ClusterObject,
  withNodeTier: boolean,
  etcdObserver?: EtcdObserver,
  at: Date = new Date(),
  imageDigests: ImageDigests = new Map(),
): Promise<ObservedCluster> {
  const resolved = resolveCluster(cluster);
  const names = clusterNames(resolved.namespace, resolved.name);
  const external = resolved.etcd.external;
  const secretsFromApi = apiReader(client, secretType);
  // The user's Secret has no managed-by label, so no cache holds it: read it each time.
  const externalEtcdSecret = external
    ? await secretsFromApi.getByName(names.namespace, external.tlsSecretName)
    : undefined;

  const etcdStatefulSet = caches.statefulSets.getByName(names.namespace, names.etcd);
  // The StatefulSet controller mounts any claim of a member's name: those it is about to use must be ours.
  const firstNewMember = etcdStatefulSet?.spec?.replicas ?? 0;
  let newMemberClaims: ObservedCluster['newMemberClaims'];
  if (!external && firstNewMember < resolved.etcd.replicas) {
    // Rare: read the claims rather than keep a cache of every PVC.
    const claimNames = etcdClaimNames(names, resolved.etcd.replicas).slice(firstNewMember);
    const claimsFromApi = apiReader(client, persistentVolumeClaimType);
    const claims = await Promise.all(
      claimNames.map((name) => claimsFromApi.getByName(names.namespace, name)),
    );
    newMemberClaims = { names: claimNames, claims };
  }

  const apiServerService = caches.services.getByName(names.namespace, names.apiServerService);
  const endpoint = endpointOf(resolved, names, apiServerService);
  const clusterIP = apiServerService?.spec?.clusterIP;
  // Long-lived Secrets read from the apiserver because the cache (managed-by label) does not hold them.
  const fetched = new Map<string, V1Secret>();
  let pki: ObservedPki | undefined;
  if (clusterIP) {
    const specs = pkiSpecs({ cluster: resolved, names, endpoint, apiServerClusterIP: clusterIP });
    // Looked up by name, not by listing the namespace: many Clusters may share one.
    const found = new Map<string, V1Secret>();
    for (const spec of specs) {
      const { secretName } = spec;
      const cachedSecret = caches.secrets.getByName(names.namespace, secretName);
      // A CA or key the cache lacks may still exist (its label lost): never make one without asking.
      const secret =
        cachedSecret ??
        (isLongLived(spec) ? await secretsFromApi.getByName(names.namespace, secretName) : undefined);
      if (secret) found.set(secretName, secret);
      if (secret && !cachedSecret) fetched.set(secretName, secret);
    }
    pki = { specs, found, unlabelled: [...fetched.keys()] };
  }
  const etcdTls = !external && etcdStatefulSet && pki ? etcdClientTlsOf(names, pki.found) : undefined;
  const etcd =
    etcdObserver && etcdTls
      ? await etcdObserver.observe(cluster.metadata.uid ?? '', names, etcdTls, at)
      : undefined;

  return {
    cluster,
    resolved,
    names,
    endpoint,
    ...(external ? { externalEtcdSecret } : {}),
    imageDigests,
    etcdStatefulSetExists: etcdStatefulSet !== undefined,
    etcdPodsNotReady:
      etcdStatefulSet !== undefined &&
      (etcdStatefulSet.status?.readyReplicas ?? 0) < (etcdStatefulSet.spec?.replicas ?? 0),
    ...(etcdStatefulSet?.spec?.replicas !== undefined
      ? { etcdStatefulSetReplicas: etcdStatefulSet.spec.replicas }
      : {}),
    ...(newMemberClaims ? { newMemberClaims } : {}),
    ...(pki ? { pki } : {}),
    ...(etcd && etcdTls ? { etcd, etcdTls } : {}),
    ...(withNodeTier ? { nodeTier: nodeTierObserved(caches, names) } : {}),
    live: (desired) =>
      cachedObject(caches, desired) ??
      (desired.kind === 'Secret' ? fetched.get(desired.metadata?.name ?? '') : undefined),
  };
}

function nodeTierObserved(caches: ClusterCaches, names: ClusterNames): ObservedCluster['nodeTier'] {
  const nodeOperatorDeployment = caches.deployments.getByName(names.namespace, names.nodeOperator);
  return nodeOperatorDeployment ? { nodeOperatorDeployment } : {};
}

/** The live object a desired one corresponds to, from the caches. */
function cachedObject(caches: ClusterCaches, desired: KubernetesObject): KubernetesObject | undefined {
  const { namespace, name = '' } = desired.metadata ?? {};
  switch (desired.kind) {
    case 'Secret':
      return caches.secrets.getByName(namespace, name);
    case 'Service':
      return caches.services.getByName(namespace, name);
    case 'Deployment':
      return caches.deployments.getByName(namespace, name);
    case 'StatefulSet':
      return caches.statefulSets.getByName(namespace, name);
    case 'NetworkPolicy':
      return caches.networkPolicies.getByName(namespace, name);
    default:
      return undefined;
  }
}
