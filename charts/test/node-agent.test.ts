// The node-operator chart's node-agent DaemonSet: it gives the agent the host's
// root and PID namespace and has it run host commands in the host's namespaces
// (the agent converging real hosts this way is the real-hosts e2e suite's), and
// Prometheus can find and reach every agent's /metrics: rendered, and installed
// on a real apiserver, where the metrics Service lists each agent at its node's address.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartsDir, helm } from './helm.ts';

const dir = join(chartsDir, 'node-operator');

interface Container {
  name: string;
  args: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { port: string | number; host?: string } };
  volumeMounts: { name: string; mountPath: string; mountPropagation?: string }[];
  securityContext?: Record<string, unknown>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    hostNetwork?: boolean;
    hostPID?: boolean;
    containers: Container[];
    volumes: { name: string; hostPath?: { path: string; type?: string } }[];
  };
}
interface Rendered {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

async function render(...values: string[]): Promise<Rendered[]> {
  const result = await helm(
    'template',
    'probe',
    dir,
    '-n',
    'kok-system',
    ...values.flatMap((v) => ['--set', v]),
  );
  expect(result.code, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

const find = (objects: Rendered[], kind: string, name: string): Rendered | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const templateOf = (workload: Rendered): PodTemplate => workload.spec.template as PodTemplate;
const agentOf = (objects: Rendered[]): Container =>
  templateOf(find(objects, 'DaemonSet', 'probe-agent') as Rendered).spec.containers[0] as Container;
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('node-agent DaemonSet', () => {
  it('mounts the host root at /host and runs host commands in the host namespaces, as root, whatever the service manager', async () => {
    for (const manager of ['systemd', 'supervisor']) {
      const objects = await render(`agent.serviceManager=${manager}`, 'agent.hostRoot=/hostfs');
      const pod = templateOf(find(objects, 'DaemonSet', 'probe-agent') as Rendered);
      const agent = agentOf(objects);
      expect(agent.volumeMounts).toEqual([
        { name: 'host-root', mountPath: '/host', mountPropagation: 'HostToContainer' },
      ]);
      expect(pod.spec.volumes).toEqual([
        { name: 'host-root', hostPath: { path: '/hostfs', type: 'Directory' } },
      ]);
      expect(agent.args).toEqual(
        expect.arrayContaining([
          '--root=/host',
          '--root-on-host=/hostfs',
          '--enter-host-namespaces',
          `--service-manager=${manager}`,
        ]),
      );
      expect(pod.spec.hostPID).toBe(true);
      // The image's user is not root.
      expect(agent.securityContext).toEqual({ privileged: true, runAsUser: 0, runAsGroup: 0 });
    }
  });

  it('serves /metrics on the node address behind a headless Service with scrape annotations, and a ServiceMonitor on request', async () => {
    const objects = await render('serviceMonitor.enabled=true');
    const daemonSet = find(objects, 'DaemonSet', 'probe-agent') as Rendered;
    const pod = templateOf(daemonSet);
    const agent = agentOf(objects);
    expect(pod.spec.hostNetwork).toBe(true);
    // The pod IP of a host-network pod is its node's: the agent listens where Prometheus connects.
    expect(agent.args).toContain('--http-host=$(POD_IP)');
    expect(agent.env?.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
    expect(agent.args).toContain('--http-port=10291');
    expect(agent.ports).toEqual([{ name: 'agent-metrics', containerPort: 10291, protocol: 'TCP' }]);
    expect(agent.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'agent-metrics' });

    const service = find(objects, 'Service', 'probe-agent-metrics') as Rendered;
    expect(service.spec.clusterIP).toBe('None');
    expect(service.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '10291',
      'prometheus.io/path': '/metrics',
    });
    expect(service.spec.ports).toEqual([
      { name: 'agent-metrics', port: 10291, targetPort: 'agent-metrics', protocol: 'TCP' },
    ]);
    const selector = service.spec.selector as Record<string, string>;
    expect(selects(selector, pod.metadata.labels)).toBe(true);
    // Agents only: the operator's pods serve another port, with a token.
    const operator = find(objects, 'Deployment', 'probe') as Rendered;
    expect(selects(selector, templateOf(operator).metadata.labels)).toBe(false);
    // And the operator's Service, whose selector also matches the agents' pods, finds no port of theirs.
    const operatorService = find(objects, 'Service', 'probe-metrics') as Rendered;
    const operatorPorts = operatorService.spec.ports as { targetPort: string }[];
    expect(agent.ports?.map((p) => p.name)).not.toContain(operatorPorts[0]?.targetPort);

    const monitor = find(objects, 'ServiceMonitor', 'probe-agent') as Rendered;
    expect(
      selects(
        (monitor.spec.selector as { matchLabels: Record<string, string> }).matchLabels,
        service.metadata.labels ?? {},
      ),
    ).toBe(true);
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({
        port: 'agent-metrics',
        relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'instance' }],
        bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      }),
    ]);
  });

  it('asks a token for /metrics as metrics.auth says, and lets the agents review it', async () => {
    const objects = await render();
    expect(agentOf(objects).args).toContain('--metrics-auth=kubernetes');
    const reviews = find(objects, 'ClusterRoleBinding', 'probe-metrics-auth') as Rendered & {
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(reviews.subjects).toContainEqual({
      kind: 'ServiceAccount',
      name: 'probe-agent',
      namespace: 'kok-system',
    });

    const open = await render('metrics.auth=none', 'serviceMonitor.enabled=true');
    expect(agentOf(open).args).toContain('--metrics-auth=none');
    const monitor = find(open, 'ServiceMonitor', 'probe-agent') as Rendered;
    expect((monitor.spec.endpoints as Record<string, unknown>[])[0]).not.toHaveProperty('bearerTokenFile');
  });

  it('keeps /metrics on 127.0.0.1, with no Service, when agent.metrics.scrapeable is false', async () => {
    const objects = await render('agent.metrics.scrapeable=false', 'serviceMonitor.enabled=true');
    const agent = agentOf(objects);
    expect(agent.args).toContain('--http-host=127.0.0.1');
    expect(agent.livenessProbe.httpGet.host).toBe('127.0.0.1');
    expect(find(objects, 'Service', 'probe-agent-metrics')).toBeUndefined();
    expect(find(objects, 'ServiceMonitor', 'probe-agent')).toBeUndefined();
  });

  it('installed, lists every agent at its node address and metrics port, as Prometheus endpoints discovery sees it', async () => {
    const namespace = uniqueName('agent-metrics');
    const release = uniqueName('node');
    const kubeConfig = sharedKubeConfig();
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const install = await helm(
      'install',
      release,
      dir,
      '-n',
      namespace,
      '--create-namespace',
      // Fixed role names would clash with other releases on the shared control plane.
      ...['--set', `userRoles.namePrefix=${release}`],
      '--wait',
      '--timeout',
      '120s',
    );
    try {
      expect(install.code, install.stderr).toBe(0);
      const daemonSet = await eventually(
        'agents ready on every node',
        async () => {
          const current = await apps.readNamespacedDaemonSet({ namespace, name: `${release}-agent` });
          const { desiredNumberScheduled = 0, numberReady = -1 } = current.status ?? {};
          return desiredNumberScheduled >= 3 && numberReady === desiredNumberScheduled && current;
        },
        90_000,
        500,
      );
      const pods = (
        await core.listNamespacedPod({
          namespace,
          labelSelector: 'app.kubernetes.io/component=node-agent',
        })
      ).items;
      expect(pods).toHaveLength(daemonSet.status?.desiredNumberScheduled ?? -1);
      const nodeAddress = new Map(
        (await core.listNode()).items.map((node) => [
          node.metadata?.name,
          node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
        ]),
      );
      const expected = pods
        .map((pod) => ({ node: pod.spec?.nodeName, address: nodeAddress.get(pod.spec?.nodeName) }))
        .sort((a, b) => String(a.node).localeCompare(String(b.node)));
      expect(expected.every((e) => e.address !== undefined)).toBe(true);

      const listed = await eventually(
        'the metrics Service to list every agent',
        async () => {
          const slices = (
            await discovery.listNamespacedEndpointSlice({
              namespace,
              labelSelector: `kubernetes.io/service-name=${release}-agent-metrics`,
            })
          ).items;
          const endpoints = slices.flatMap((slice) =>
            (slice.endpoints ?? [])
              .filter((e) => e.conditions?.ready === true)
              .map((e) => ({
                node: e.nodeName,
                address: e.addresses[0],
                ports: slice.ports?.map((p) => `${p.name}:${p.port}`),
              })),
          );
          return endpoints.length === expected.length && endpoints;
        },
        60_000,
        500,
      );
      expect(listed.sort((a, b) => String(a.node).localeCompare(String(b.node)))).toEqual(
        expected.map((e) => ({ ...e, ports: ['agent-metrics:10291'] })),
      );
    } finally {
      await helm('uninstall', release, '-n', namespace, '--wait', '--timeout', '120s');
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
  });
});
