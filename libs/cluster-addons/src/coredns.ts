/**
 * CoreDNS in the biz-cluster, as kubeadm deploys it: the `coredns`
 * Deployment (two replicas, spread over nodes) behind the Service `kube-dns`
 * at the tenth address of the service CIDR, which the kubelets name as
 * clusterDNS. It answers for the Cluster's DNS domain from the biz apiserver
 * (through the `kubernetes` Service) and forwards the rest to the node's resolver.
 */
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { coreDnsImage } from '@kok/api';
import type { AddonCluster } from './addon-cluster.ts';
import { ADDON_NAMESPACE, addonLabels, configHashAnnotation } from './addon-labels.ts';

export const COREDNS_NAME = 'coredns';
export const KUBE_DNS_SERVICE = 'kube-dns';
const CLUSTER_ROLE = 'system:coredns';
const REPLICAS = 2;
const SELECTOR = { 'k8s-app': 'kube-dns' };

/** The Corefile: the cluster domain and reverse zones from the apiserver, the rest upstream. */
export function corefile(dnsDomain: string): string {
  return `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${dnsDomain} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
}

/** Its objects; `clusterIP` is kube-dns's (left out where only the names matter, to remove them). */
export function coreDnsObjects(
  cluster: AddonCluster,
  version: string,
  clusterIP: string | undefined,
): KubernetesObject[] {
  const labels = addonLabels(COREDNS_NAME);
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: COREDNS_NAME, namespace: ADDON_NAMESPACE, labels },
  };
  const role: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: CLUSTER_ROLE, labels },
    rules: [
      {
        apiGroups: [''],
        resources: ['endpoints', 'services', 'pods', 'namespaces'],
        verbs: ['list', 'watch'],
      },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ],
  };
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: CLUSTER_ROLE, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: COREDNS_NAME, namespace: ADDON_NAMESPACE }],
  };
  const config: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: COREDNS_NAME, namespace: ADDON_NAMESPACE, labels },
    data: { Corefile: corefile(cluster.network.dnsDomain) },
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: COREDNS_NAME, namespace: ADDON_NAMESPACE, labels: { ...labels, ...SELECTOR } },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: SELECTOR },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { ...labels, ...SELECTOR }, annotations: configHashAnnotation(config) },
        spec: {
          serviceAccountName: COREDNS_NAME,
          priorityClassName: 'system-cluster-critical',
          // Its upstream is the node's resolver, not itself.
          dnsPolicy: 'Default',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: SELECTOR },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: COREDNS_NAME,
              image: coreDnsImage(version),
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              resources: { requests: { cpu: '100m', memory: '70Mi' }, limits: { memory: '170Mi' } },
              livenessProbe: {
                httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                initialDelaySeconds: 60,
                timeoutSeconds: 5,
                failureThreshold: 5,
              },
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
              securityContext: {
                // Port 53 without root.
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 65532,
              },
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: COREDNS_NAME } }],
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: KUBE_DNS_SERVICE,
      namespace: ADDON_NAMESPACE,
      labels: { ...labels, ...SELECTOR, 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      selector: SELECTOR,
      ...(clusterIP ? { clusterIP } : {}),
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
  return [serviceAccount, role, binding, config, deployment, service];
}
