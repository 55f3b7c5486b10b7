/**
 * kube-proxy in the biz-cluster, as kubeadm deploys it: a DaemonSet on every
 * node, in the node's network namespace, programming its iptables. It dials
 * the apiserver at the Cluster's advertise address (the one address of the
 * apiserver nodes reach without a Service: it is what programs the Services)
 * with its ServiceAccount's token.
 */
import type {
  KubernetesObject,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1DaemonSet,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { kubeProxyImage } from '@kok/api';
import type { AddonCluster } from './addon-cluster.ts';
import { ADDON_NAMESPACE, addonLabels, configHashAnnotation } from './addon-labels.ts';

export const KUBE_PROXY_NAME = 'kube-proxy';
const CONFIG_DIR = '/var/lib/kube-proxy';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SELECTOR = { 'k8s-app': 'kube-proxy' };

/** `https://10.0.0.7:6443`, `https://[fd00::7]:6443`. */
export function kubeProxyServer(advertiseAddress: string, port: number): string {
  const host = advertiseAddress.includes(':') ? `[${advertiseAddress}]` : advertiseAddress;
  return `https://${host}:${port}`;
}

/**
 * Its configuration. The conntrack table size is left to the host (maxPerCore 0), as kind does: kube-proxy
 * would otherwise write the machine-wide hashsize, which a node's own tuning (a NodePool file) owns.
 */
export function kubeProxyConfiguration(cluster: AddonCluster): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${CONFIG_DIR}/kubeconfig.conf
mode: iptables
clusterCIDR: ${cluster.network.podCIDR}
conntrack:
  maxPerCore: 0
`;
}

function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: default
  cluster:
    certificate-authority: ${SERVICE_ACCOUNT_DIR}/ca.crt
    server: ${server}
contexts:
- name: default
  context:
    cluster: default
    namespace: default
    user: default
current-context: default
users:
- name: default
  user:
    tokenFile: ${SERVICE_ACCOUNT_DIR}/token
`;
}

/** Its objects; `server` is the apiserver URL it dials (kubeProxyServer). */
export function kubeProxyObjects(cluster: AddonCluster, server: string): KubernetesObject[] {
  const labels = addonLabels(KUBE_PROXY_NAME);
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: KUBE_PROXY_NAME, namespace: ADDON_NAMESPACE, labels },
  };
  // system:node-proxier is one of the apiserver's bootstrap roles.
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kok:node-proxier', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
    subjects: [{ kind: 'ServiceAccount', name: KUBE_PROXY_NAME, namespace: ADDON_NAMESPACE }],
  };
  const config: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: KUBE_PROXY_NAME, namespace: ADDON_NAMESPACE, labels },
    data: {
      'config.conf': kubeProxyConfiguration(cluster),
      'kubeconfig.conf': kubeconfig(server),
    },
  };
  const daemonSet: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: KUBE_PROXY_NAME, namespace: ADDON_NAMESPACE, labels: { ...labels, ...SELECTOR } },
    spec: {
      selector: { matchLabels: SELECTOR },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        // kube-proxy reads its configuration and kubeconfig at start only: a change restarts it, node by node.
        metadata: { labels: { ...labels, ...SELECTOR }, annotations: configHashAnnotation(config) },
        spec: {
          serviceAccountName: KUBE_PROXY_NAME,
          priorityClassName: 'system-node-critical',
          hostNetwork: true,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          // Every node, whatever its taints: Services work nowhere else.
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: KUBE_PROXY_NAME,
              image: kubeProxyImage(cluster.version),
              imagePullPolicy: 'IfNotPresent',
              command: [
                '/usr/local/bin/kube-proxy',
                `--config=${CONFIG_DIR}/config.conf`,
                '--hostname-override=$(NODE_NAME)',
              ],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { privileged: true },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                // Shared with every other iptables writer of the node.
                { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: KUBE_PROXY_NAME } },
            // No /lib/modules (kubeadm mounts it for IPVS): iptables mode loads no modules itself, and hosts without
            // that directory would fail the mount.
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
          ],
        },
      },
    },
  };
  return [serviceAccount, binding, config, daemonSet];
}
