/**
 * The etcd a Cluster runs when spec.etcd.version is empty, by the Kubernetes
 * minor of spec.version. kubeadm v1.36 pairs 1.34, 1.35 and 1.36 with etcd
 * 3.6 (constants.SupportedEtcdVersion); each row names the 3.6 patch release
 * this operator is built and tested with (ETCD_VERSION in tools/versions.env),
 * a later patch than kubeadm's 3.6.8 that its tests have run. A minor without
 * a row gets no guess: the Cluster waits for spec.etcd.version.
 */
import { parseMinorVersion } from './kubernetes-version.ts';

export const ETCD_VERSION_BY_KUBERNETES_MINOR: Readonly<Record<string, string>> = {
  '1.34': '3.6.16',
  '1.35': '3.6.16',
  '1.36': '3.6.16',
};

/** The etcd version paired with the minor of `kubernetesVersion` (v1.36.3 → 3.6.16), or undefined when none is. */
export function pairedEtcdVersion(kubernetesVersion: string): string | undefined {
  const parsed = parseMinorVersion(kubernetesVersion);
  if (!parsed) return undefined;
  const minor = `${parsed.major}.${parsed.minor}`;
  return Object.hasOwn(ETCD_VERSION_BY_KUBERNETES_MINOR, minor)
    ? ETCD_VERSION_BY_KUBERNETES_MINOR[minor]
    : undefined;
}

/** Degraded reason of a Cluster whose etcd version cannot be chosen. */
export const ETCD_VERSION_UNKNOWN = 'EtcdVersionUnknown';

export function etcdVersionUnknownMessage(kubernetesVersion: string): string {
  const known = Object.keys(ETCD_VERSION_BY_KUBERNETES_MINOR).join(', ');
  return `no etcd version is paired with Kubernetes ${kubernetesVersion} (this operator pairs ${known}): set spec.etcd.version to the etcd release to run`;
}
