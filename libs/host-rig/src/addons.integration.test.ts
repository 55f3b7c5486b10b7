/**
 * The add-ons on real hosts: two hosts of the rig (each its own network
 * namespace, containerd, kubelet) joined to a test control plane by TLS
 * bootstrap, their pods networked between hosts by the rig (routes to each
 * other's pod CIDR, masquerade towards the gateway); kube-proxy and CoreDNS
 * run from the images our packer built and the hosts imported.
 *
 * No node-agent here (its suite is the e2e one): the stand-in of
 * stand-in-agent.ts installs what the agent would from the same catalog.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COREDNS_USER, KUBE_PROXY_PATH } from './addon-images.ts';
import { ensureHostBinaries } from './host-binaries.ts';
import type { HostBinaries } from './host-binaries.ts';
import { realHostSupport } from './host-support.ts';
import { leftovers, snapshotMachine } from './machine-snapshot.ts';
import type { MachineSnapshot } from './machine-snapshot.ts';
import { COMPONENT_NAMES } from './node-software.ts';
import { startRealHostCluster } from './real-host-cluster.ts';
import { provisionStandInHost, STAND_IN_AGENT_COMMAND } from './stand-in-agent.ts';
import type { RealHostCluster } from './real-host-cluster.ts';
import { workloadImageReference } from './test-images.ts';
import { coreDnsImage, kubeProxyImage } from '@kok/api';

const HOSTS = ['addon-0', 'addon-1'] as const;
/** The test control plane's service CIDR is 10.0.0.0/24: its DNS Service sits at the 10th address. */
const CLUSTER_DNS = '10.0.0.10';
const NAMESPACE = 'kube-system';
/** The echo pod's hostPort on its host's address. */
const ECHO_HOST_PORT = 18080;

const support = realHostSupport();
const runsHere = support.supported || process.env.CI === 'true';

let cluster: RealHostCluster;
let objects: KubernetesObjectApi;
let core: CoreV1Api;
let machineBefore: MachineSnapshot | undefined;
let kubeProxyVersion: string;
let coreDnsVersion: string;
let binaries: HostBinaries;

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  binaries = ensureHostBinaries();
  cluster = await startRealHostCluster({ agentCommand: STAND_IN_AGENT_COMMAND });
  kubeProxyVersion = cluster.versions.kubelet.at(-1) as string;
  coreDnsVersion = cluster.versions.coreDns.at(-1) as string;
  objects = KubernetesObjectApi.makeApiClient(cluster.controlPlane.kubeConfig);
  core = cluster.controlPlane.kubeConfig.makeApiClient(CoreV1Api);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

async function create(...manifests: KubernetesObject[]): Promise<void> {
  for (const manifest of manifests) await objects.create(manifest);
}

const pod = async (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: NAMESPACE });

/** A pod of the busybox image on `node` that runs `script` once; its termination message is what it wrote. */
function oneShot(name: string, node: string, script: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'main',
          image: workloadImageReference,
          imagePullPolicy: 'Never',
          command: ['/bin/busybox', 'sh', '-c', script],
        },
      ],
    },
  } as KubernetesObject;
}

/** Waits for a one-shot pod to end and returns its termination message; fails with it if the pod failed. */
async function outcome(name: string, timeoutMs: number): Promise<string> {
  const ended = await eventually(
    `pod ${name} to finish`,
    async () => {
      const p = await pod(name);
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    },
    timeoutMs,
    { intervalMs: 250, context: hostLogs },
  );
  const message = ended.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
  expect(ended.status?.phase, `${name}: ${message}`).toBe('Succeeded');
  return message;
}

/** busybox httpd gives REMOTE_ADDR as an IPv4-mapped IPv6 address: `[::ffff:10.244.0.2]`. */
const remoteAddress = (text: string) => text.trim().replace(/^\[::ffff:(.*)\]$/, '$1');

function hostLogs(): string {
  return cluster.rig.hosts.map((h) => `--- ${h.name}:\n${h.logTail(10)}`).join('\n');
}

/** Retries `command` (sh; bound each try with `busybox timeout`: busybox 1.35's `wget -T` crashes) for up to `seconds`, then writes its output as the termination message. */
const retried = (command: string, seconds: number) =>
  `for i in $(busybox seq 1 ${seconds * 2}); do out=$(${command} 2>&1) && break; busybox sleep 0.5; done; ` +
  `echo "$out" > /dev/termination-log; ${command} > /dev/null 2>&1`;

describe.runIf(runsHere)('add-ons on real hosts', () => {
  let httpdIp = '';

  it('two hosts join and pods on different hosts reach each other by pod IP, by host port, and the gateway', async () => {
    const began = Date.now();
    for (const name of HOSTS) {
      provisionStandInHost(cluster, binaries, {
        name,
        address: cluster.nextAddress(),
        template: { kubeProxy: kubeProxyVersion, coreDns: coreDnsVersion, clusterDNS: CLUSTER_DNS },
      });
      await cluster.addHost(name);
    }
    const nodes = await eventually(
      'two Ready Nodes with pod CIDRs',
      async () => {
        const list = (await core.listNode()).items;
        const ready = list.filter(
          (n) =>
            n.spec?.podCIDR && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === HOSTS.length ? ready : undefined;
      },
      90_000,
      { intervalMs: 250, context: hostLogs },
    );
    console.log(`[addons] ${HOSTS.length} hosts Ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(2);

    // httpd on host 1 answers with the address it saw the request come from.
    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo', namespace: NAMESPACE, labels: { app: 'echo' } },
      spec: {
        nodeName: HOSTS[1],
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'httpd',
            image: workloadImageReference,
            imagePullPolicy: 'Never',
            command: [
              '/bin/busybox',
              'sh',
              '-c',
              'busybox mkdir -p /tmp/www/cgi-bin && ' +
                `busybox printf '#!/bin/busybox sh\\necho Content-Type: text/plain\\necho\\necho "$REMOTE_ADDR"\\n' > /tmp/www/cgi-bin/ip && ` +
                'busybox chmod 755 /tmp/www/cgi-bin/ip && exec busybox httpd -f -p 8080 -h /tmp/www',
            ],
            ports: [{ containerPort: 8080, hostPort: ECHO_HOST_PORT }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    } as KubernetesObject);
    httpdIp = await eventually(
      'the echo pod Ready',
      async () => {
        const p = await pod('echo');
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status.podIP;
      },
      60_000,
      { intervalMs: 250, context: hostLogs },
    );
    const gatewayFile =
      cluster.software.components[COMPONENT_NAMES.pauseImage]?.versions[0]?.artifact.url ?? '';
    await create(
      oneShot(
        'client',
        HOSTS[0],
        retried(`busybox timeout 3 busybox wget -q -O - http://${httpdIp}:8080/cgi-bin/ip`, 20) +
          ` && busybox wget -q -O /dev/null ${gatewayFile}`,
      ),
    );
    const seen = await outcome('client', 60_000);
    const client = await pod('client');
    // Cross-host pod traffic keeps the client's pod address; the gateway is reachable (masqueraded).
    expect(remoteAddress(seen)).toBe(client.status?.podIP);
    expect(client.status?.podIP).not.toBe(cluster.rig.host(HOSTS[0]).address);

    // The hostPort: the CNI chain's portmap forwards the host's port to the pod. The client's traffic
    // to a host address leaves its host masqueraded, so the echo pod sees that host's address.
    const echoHost = cluster.rig.host(HOSTS[1]).address;
    await create(
      oneShot(
        'host-port-client',
        HOSTS[0],
        retried(`busybox timeout 3 busybox wget -q -O - http://${echoHost}:${ECHO_HOST_PORT}/cgi-bin/ip`, 20),
      ),
    );
    expect(remoteAddress(await outcome('host-port-client', 60_000))).toBe(cluster.rig.host(HOSTS[0]).address);
  });

  it('kube-proxy from the packed image runs as a DaemonSet and a pod reaches a ClusterIP Service across hosts', async () => {
    const began = Date.now();
    await create(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'kok-test-kube-proxy' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: NAMESPACE }],
      } as KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-proxy', namespace: NAMESPACE },
        data: {
          'config.yaml': [
            'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
            'kind: KubeProxyConfiguration',
            'mode: iptables',
            `clusterCIDR: ${cluster.rig.network.podCidr}`,
            'clientConnection:',
            '  kubeconfig: /var/lib/kube-proxy/kubeconfig',
            // Leave the machine-global conntrack table size alone; the timeouts too.
            'conntrack:',
            '  maxPerCore: 0',
            '  min: 0',
            '  tcpEstablishedTimeout: 0s',
            '  tcpCloseWaitTimeout: 0s',
            '',
          ].join('\n'),
          kubeconfig: [
            'apiVersion: v1',
            'kind: Config',
            'clusters:',
            '- name: default',
            '  cluster:',
            `    server: ${cluster.controlPlane.server}`,
            '    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
            'users:',
            '- name: default',
            '  user:',
            '    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token',
            'contexts:',
            '- name: default',
            '  context: {cluster: default, user: default}',
            'current-context: default',
            '',
          ].join('\n'),
        },
      } as KubernetesObject,
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'kube-proxy', namespace: NAMESPACE },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
          template: {
            metadata: { labels: { 'k8s-app': 'kube-proxy' } },
            spec: {
              serviceAccountName: 'kube-proxy',
              hostNetwork: true,
              priorityClassName: 'system-node-critical',
              tolerations: [{ operator: 'Exists' }],
              containers: [
                {
                  name: 'kube-proxy',
                  image: kubeProxyImage(kubeProxyVersion),
                  imagePullPolicy: 'Never',
                  command: [
                    KUBE_PROXY_PATH,
                    '--config=/var/lib/kube-proxy/config.yaml',
                    '--hostname-override=$(NODE_NAME)',
                  ],
                  env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                  securityContext: { privileged: true },
                  volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
                },
              ],
              volumes: [{ name: 'kube-proxy', configMap: { name: 'kube-proxy' } }],
            },
          },
        },
      } as KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'echo', namespace: NAMESPACE },
        spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] },
      } as KubernetesObject,
    );
    await eventually(
      'kube-proxy Ready on both hosts',
      async () => {
        const pods = (
          await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'k8s-app=kube-proxy' })
        ).items;
        return (
          pods.length === HOSTS.length &&
          pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        );
      },
      60_000,
      { intervalMs: 250, context: hostLogs },
    );
    console.log(`[addons] kube-proxy Ready on both hosts in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const service = await core.readNamespacedService({ name: 'echo', namespace: NAMESPACE });
    await create(
      oneShot(
        'service-client',
        HOSTS[0],
        retried(`busybox timeout 3 busybox wget -q -O - http://${service.spec?.clusterIP}/cgi-bin/ip`, 30),
      ),
    );
    const seen = await outcome('service-client', 60_000);
    // The Service's only endpoint is on the other host; the client's pod address arrives unchanged.
    expect(remoteAddress(seen)).toBe((await pod('service-client')).status?.podIP);
  });

  it('CoreDNS from the packed image runs on a host and answers for the cluster through its Service', async () => {
    const began = Date.now();
    await create(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'kok-test-coredns' },
        rules: [
          {
            apiGroups: [''],
            resources: ['endpoints', 'services', 'pods', 'namespaces'],
            verbs: ['list', 'watch'],
          },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
        ],
      } as KubernetesObject,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'kok-test-coredns' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kok-test-coredns' },
        subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NAMESPACE }],
      } as KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'coredns', namespace: NAMESPACE },
        data: {
          Corefile:
            '.:53 {\n    errors\n    health :8080\n    ready :8181\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n}\n',
        },
      } as KubernetesObject,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'coredns', namespace: NAMESPACE },
        spec: {
          replicas: 1,
          selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          template: {
            metadata: { labels: { 'k8s-app': 'kube-dns' } },
            spec: {
              serviceAccountName: 'coredns',
              nodeName: HOSTS[0],
              // As kubeadm renders it: port 53 as the image's non-root user by NET_BIND_SERVICE (added below).
              containers: [
                {
                  name: 'coredns',
                  image: coreDnsImage(coreDnsVersion),
                  imagePullPolicy: 'Never',
                  args: ['-conf', '/etc/coredns/Corefile'],
                  ports: [
                    { name: 'dns', containerPort: 53, protocol: 'UDP' },
                    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  ],
                  securityContext: {
                    runAsUser: Number(COREDNS_USER),
                    runAsNonRoot: true,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                  },
                  readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 1 },
                  livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 5 },
                  volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
            },
          },
        },
      } as KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: NAMESPACE, labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          clusterIP: CLUSTER_DNS,
          selector: { 'k8s-app': 'kube-dns' },
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        },
      } as KubernetesObject,
    );
    await eventually(
      'CoreDNS Ready',
      async () => {
        const pods = (
          await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'k8s-app=kube-dns' })
        ).items;
        return pods.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      },
      60_000,
      { intervalMs: 250, context: hostLogs },
    );
    console.log(`[addons] CoreDNS Ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    // From the other host, through the kubelet's clusterDNS (the kube-dns Service) to CoreDNS.
    await create(
      oneShot('dns-client', HOSTS[1], retried('busybox nslookup kubernetes.default.svc.cluster.local', 20)),
    );
    const answer = await outcome('dns-client', 60_000);
    expect(answer).toMatch(/Address:\s*10\.0\.0\.1\b/);
  });

  it('teardown leaves nothing of the hosts, their routes or rules on the machine', async () => {
    const owns = (entry: string) => cluster.rig.owns(entry);
    await cluster.stop();
    const after = await snapshotMachine();
    // Any new iptables rule in the machine's namespace counts: kube-proxy's and the masquerade were the hosts'.
    expect(leftovers(machineBefore as MachineSnapshot, after, owns)).toEqual({});
  });
});
