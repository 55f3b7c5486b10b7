export type { AddonCluster } from './addon-cluster.ts';
export {
  ADDON_LABEL,
  ADDON_MANAGER,
  ADDON_NAMESPACE,
  addonLabels,
  configHashAnnotation,
  isOwnAddonObject,
} from './addon-labels.ts';
export { COREDNS_NAME, coreDnsObjects, corefile, KUBE_DNS_SERVICE } from './coredns.ts';
export { KUBE_PROXY_NAME, kubeProxyConfiguration, kubeProxyObjects, kubeProxyServer } from './kube-proxy.ts';
