/**
 * The add-ons every biz-cluster gets (CoreDNS, kube-proxy), versioned with the
 * Cluster: kube-proxy runs the Cluster's own version, CoreDNS the version this
 * table pairs with the Cluster's minor (the one kubeadm pins for that minor).
 */
import { kubeImage } from './cluster-components.ts';

/** Kubernetes minor (`1.36`) → CoreDNS version. */
const COREDNS_BY_MINOR: Readonly<Record<string, string>> = {
  '1.35': 'v1.13.1',
  '1.36': 'v1.13.1',
};

/** Every CoreDNS version the table names, oldest first: what the build makes. */
export const COREDNS_VERSIONS: readonly string[] = [...new Set(Object.values(COREDNS_BY_MINOR))].sort();

/** The CoreDNS version of a Kubernetes version; undefined for a minor the table does not know. */
export function coreDnsVersionFor(kubernetesVersion: string): string | undefined {
  const minor = /^v?(\d+\.\d+)\./.exec(kubernetesVersion)?.[1];
  return minor === undefined ? undefined : COREDNS_BY_MINOR[minor];
}

/** `registry.k8s.io/coredns/coredns:v1.13.1`. */
export function coreDnsImage(version: string): string {
  return `registry.k8s.io/coredns/coredns:${version}`;
}

/** `registry.k8s.io/kube-proxy:v1.36.3`. */
export function kubeProxyImage(version: string): string {
  return kubeImage('kube-proxy', version);
}
