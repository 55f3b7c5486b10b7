/**
 * The Cluster as the operator acts on it: every default applied and every
 * optional field resolved, so rendering never has to ask "is it set?".
 */
import { ClusterResource, pairedEtcdVersion, withDefaults } from '@kok/api';
import type { ClusterSpec } from '@kok/api';
import { OPERATOR_VERSION } from './operator-version.ts';

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface ComponentSettings {
  replicas: number;
  extraArgs: Record<string, string>;
  featureGates: Record<string, boolean>;
  resources?: ResourceRequirements;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface ResolvedCluster {
  namespace: string;
  name: string;
  /** Kubernetes version of the control plane, e.g. v1.36.3. */
  version: string;
  etcd: {
    replicas: number;
    /**
     * spec.etcd.version, else the one paired with spec.version's minor (etcd-versions.ts);
     * undefined when neither says, and the reconciler holds the Cluster.
     */
    version: string | undefined;
    storage: { size: string; storageClassName?: string };
    /**
     * An etcd run elsewhere: the operator runs no etcd (replicas, version and storage are unused) and
     * the apiserver dials `endpoints` with the client certificate of Secret `tlsSecretName`.
     */
    external?: { endpoints: string[]; tlsSecretName: string };
    /** The snapshot a new Cluster's etcd starts from: a file at `path` in the volume of claim `claimName`. */
    restoreFrom?: { claimName: string; path: string };
  };
  apiServer: ComponentSettings & {
    service: { type: ServiceType; port: number };
    /** What the biz-cluster's `kubernetes` Service points at and kube-proxy dials; unset: each pod's IP. */
    advertiseAddress?: string;
  };
  controllerManager: ComponentSettings;
  scheduler: ComponentSettings;
  certSANs: string[];
  network: { serviceCIDR: string; podCIDR: string; dnsDomain: string };
  /** The add-ons deployed into the biz-cluster (addons/). */
  addons: { coreDNS: boolean; kubeProxy: boolean };
  /** The node-operator run for this cluster; version defaults to this operator's release. */
  nodeOperator: { enabled: boolean; version: string };
  paused: boolean;
}

type Quantities = Record<string, string | number>;
type RawSettings = {
  replicas?: number;
  extraArgs?: Record<string, string>;
  featureGates?: Record<string, boolean>;
  resources?: { requests?: Quantities; limits?: Quantities };
};

/** Quantities as the strings core/v1 serialises (`2` becomes `"2"`). */
const quantities = (q: Quantities | undefined) =>
  q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) : undefined;

function resourcesOf(raw: RawSettings['resources']): ResourceRequirements | undefined {
  if (!raw) return undefined;
  const requests = quantities(raw.requests);
  const limits = quantities(raw.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

function settings(raw: RawSettings | undefined, defaultReplicas: number): ComponentSettings {
  return {
    replicas: raw?.replicas ?? defaultReplicas,
    extraArgs: { ...raw?.extraArgs },
    featureGates: { ...raw?.featureGates },
    ...(raw?.resources ? { resources: resourcesOf(raw.resources) } : {}),
  };
}

/** Resolves `cluster.spec` with the CRD's defaults (the same ones the apiserver applies). */
export function resolveCluster(cluster: {
  metadata?: { name?: string; namespace?: string };
  spec: ClusterSpec;
}): ResolvedCluster {
  const spec = withDefaults(ClusterResource, {
    apiVersion: '',
    kind: '',
    metadata: {},
    spec: cluster.spec,
  }).spec;
  const etcd = spec.etcd;
  const plane = spec.controlPlane;
  const storageClassName = etcd?.storage?.storageClassName;
  return {
    namespace: cluster.metadata?.namespace ?? 'default',
    name: cluster.metadata?.name ?? '',
    version: spec.version,
    etcd: {
      replicas: etcd?.replicas ?? 3,
      version: etcd?.version ?? pairedEtcdVersion(spec.version),
      storage: {
        size: String(etcd?.storage?.size ?? '8Gi'),
        ...(storageClassName ? { storageClassName } : {}),
      },
      ...(etcd?.restoreFrom
        ? { restoreFrom: { claimName: etcd.restoreFrom.claimName, path: etcd.restoreFrom.path } }
        : {}),
      ...(etcd?.external
        ? {
            external: {
              endpoints: [...etcd.external.endpoints],
              tlsSecretName: etcd.external.tlsSecretRef.name,
            },
          }
        : {}),
    },
    apiServer: {
      ...settings(plane?.apiServer, 3),
      service: {
        type: plane?.apiServer?.service?.type ?? 'ClusterIP',
        port: plane?.apiServer?.service?.port ?? 6443,
      },
      ...(plane?.apiServer?.advertiseAddress ? { advertiseAddress: plane.apiServer.advertiseAddress } : {}),
    },
    controllerManager: settings(plane?.controllerManager, 2),
    scheduler: settings(plane?.scheduler, 2),
    certSANs: [...(spec.certSANs ?? [])],
    network: {
      serviceCIDR: spec.network?.serviceCIDR ?? '10.96.0.0/12',
      podCIDR: spec.network?.podCIDR ?? '10.244.0.0/16',
      dnsDomain: spec.network?.dnsDomain ?? 'cluster.local',
    },
    addons: {
      coreDNS: spec.addons?.coreDNS?.enabled ?? true,
      kubeProxy: spec.addons?.kubeProxy?.enabled ?? true,
    },
    nodeOperator: {
      enabled: spec.nodeOperator?.enabled ?? true,
      version: spec.nodeOperator?.version ?? OPERATOR_VERSION,
    },
    paused: spec.paused ?? false,
  };
}
