/** Pieces every control-plane pod shares. */
import type {
  V1Affinity,
  V1Probe,
  V1ProjectedVolumeSource,
  V1ResourceRequirements,
  V1VolumeProjection,
} from '@kubernetes/client-node';
import type { ResourceRequirements } from '../cluster-spec.ts';
import type { ComponentLabel } from '../names.ts';
import { selectorLabels } from '../names.ts';

/** Where the certificates are mounted, as kubeadm lays them out. */
export const PKI_DIR = '/etc/kubernetes/pki';
export const KUBECONFIG_DIR = '/etc/kubernetes/kubeconfig';

/**
 * The control-plane images run as a non-root user (65532:65532). The projected
 * certificates are root's with mode 0400, and a new volume of etcd's is root's:
 * the pod's fsGroup makes the kubelet give that group read of the former and
 * write to the latter (volumes that support fsGroup: not hostPath). Not in the
 * template hashes: running pods keep theirs until they roll for another reason.
 */
export const CONTROL_PLANE_POD_SECURITY = { fsGroup: 65532 } as const;

/** One file of a projected volume: `key` of Secret `secret` at `path`. */
export interface SecretFile {
  secret: string;
  key: string;
  path: string;
}

/** A read-only projected volume of Secret files, grouped per Secret. */
export function secretFiles(files: readonly SecretFile[]): V1ProjectedVolumeSource {
  const bySecret = new Map<string, V1VolumeProjection>();
  for (const file of files) {
    const source = bySecret.get(file.secret) ?? { secret: { name: file.secret, items: [] } };
    source.secret?.items?.push({ key: file.key, path: file.path });
    bySecret.set(file.secret, source);
  }
  return { sources: [...bySecret.values()], defaultMode: 0o400 };
}

/** Spread replicas over nodes when the meta-cluster has them, without refusing to schedule when it has not. */
export function spreadOverNodes(cluster: string, component: ComponentLabel): V1Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selectorLabels(cluster, component) },
          },
        },
      ],
    },
  };
}

export function resourcesOf(resources: ResourceRequirements | undefined): V1ResourceRequirements | undefined {
  if (!resources) return undefined;
  return {
    ...(resources.requests ? { requests: { ...resources.requests } } : {}),
    ...(resources.limits ? { limits: { ...resources.limits } } : {}),
  };
}

/**
 * An HTTP(S) GET probe with kubeadm's timings for liveness and readiness. The startup probe asks every
 * second from the start, for kubeadm's budget (250 s): with kubeadm's 10 s delay and period, each
 * component took at least 10 s to be Ready however fast it started, and a control plane comes up in
 * order (etcd, the apiserver, then the controller-manager and scheduler), so a Cluster took 30 s at
 * the least. A GET a second while a component starts costs nothing worth that.
 */
export function httpProbe(
  kind: 'startup' | 'liveness' | 'readiness',
  path: string,
  port: string,
  scheme: 'HTTP' | 'HTTPS',
): V1Probe {
  const timings = {
    startup: { periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 250 },
    liveness: { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 },
    readiness: { periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 },
  }[kind];
  return { httpGet: { path, port, scheme }, ...timings };
}

/** `maxUnavailable` that matches requiredReady(): one pod may be down from two replicas up. */
export function rollingUpdate(replicas: number) {
  return {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: replicas > 1 ? 1 : 0 },
  };
}
