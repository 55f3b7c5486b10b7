/**
 * A biz-cluster's control plane as real containers on real meta-cluster
 * nodes: a meta-cluster whose Nodes are hosts of the host rig (each its own
 * network namespace, containerd and kubelet, joined by TLS bootstrap), with
 * CoreDNS and kube-proxy rendered by the operator's add-on renderers; the
 * control-plane images packed by our packer and imported into every host's
 * containerd; etcd's claim bound to a local volume on one host; the
 * kube-on-kube-operator as a process in a host's network namespace, where
 * pod addresses route. A Cluster becomes Available with every control-plane
 * pod a containerd container on a rig host, and its apiserver answers through
 * its meta-cluster Service's ClusterIP (kube-proxy). It is created at the
 * previous Kubernetes version (v1.35.4, images packed from that build) and
 * upgraded to the pinned one while a client in a host's namespace keeps
 * talking to it through that ClusterIP.
 *
 * No node-agent here (its suite is real-hosts.e2e.test.ts): a stand-in does
 * what the agent would with the same catalog — the binaries where the
 * Components install them, the template's files, the image Components
 * imported with their own command (and the control-plane images beside
 * them), containerd and the kubelet run with their service commands.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ComponentSpec } from '@kok/api';
import { coreDnsVersionFor, etcdImage, kubeImage, pairedEtcdVersion } from '@kok/api';
import type { HostBinaries, MachineSnapshot, RealHostCluster } from '@kok/host-rig';
import {
  COMPONENT_NAMES,
  ensureHostBinaries,
  leftovers,
  NODE_PATHS,
  realHostSupport,
  realHostTemplate,
  snapshotMachine,
  startRealHostCluster,
} from '@kok/host-rig';
import { CONTROL_PLANE_BINARIES, packKokImage } from '@kok/images';
import { stageMetaCluster } from '@kok/pod-runtime';
import { ensureBinaries, eventually, pinnedVersions } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreDnsObjects } from '../../apps/kube-on-kube-operator/src/addons/coredns.ts';
import { kubeProxyObjects, kubeProxyServer } from '../../apps/kube-on-kube-operator/src/addons/kube-proxy.ts';
import { resolveCluster } from '../../apps/kube-on-kube-operator/src/cluster-spec.ts';
import type { ServiceClientTarget } from './support/service-client-process.ts';
import { startServiceClient, type ServiceClient } from './support/service-client-process.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HOSTS = ['cp-0', 'cp-1'] as const;
const NAMESPACE = 'tenants';
const CLUSTER = 'real';
/** The test control plane's service CIDR is 10.0.0.0/24: its DNS Service sits at the 10th address. */
const META_SERVICE_CIDR = '10.0.0.0/24';
const CLUSTER_DNS = '10.0.0.10';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
const KUBERNETES_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
/** The Cluster is created at the previous version (tools/versions.env CONTROL_PLANE_PREVIOUS_VERSIONS)… */
const FROM = 'v1.35.4';
/** …and upgraded to the pinned one. */
const TO = pinnedVersions().kubernetes;

/** The rig appends `--root <root>`; the stand-in runs what the test wrote there. */
const STAND_IN_AGENT = [
  'sh',
  '-c',
  'while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done; exec sh "$root/stand-in.sh"',
  'stand-in-agent',
];

const support = realHostSupport();
const runsHere = support.supported || process.env.CI === 'true';

let cluster: RealHostCluster;
let core: CoreV1Api;
let objects: KubernetesObjectApi;
let machineBefore: MachineSnapshot | undefined;
let binaries: HostBinaries;
let operator: ChildProcess | undefined;
/** The control-plane image tarballs, imported on every host. */
let controlPlaneImages: string[] = [];
/** The biz apiserver as a client in a host's namespace reaches it: its Service's ClusterIP, and its admin. */
let serviceTarget: Omit<ServiceClientTarget, 'name' | 'pauseMs' | 'retryAfterMs'> | undefined;
let client: ServiceClient | undefined;
const began = Date.now();

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** The component command with the host's variables filled in, quoted for sh. */
function shellCommand(command: readonly string[], vars: Record<string, string>): string {
  return command
    .map((arg) => arg.replace(/\$\((KOK_[A-Z_]+)\)/g, (whole, name: string) => vars[name] ?? whole))
    .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(' ');
}

/** Writes what the agent would install on host `name`, and the stand-in script that starts it. */
function provision(name: string, address: string): void {
  const root = join(cluster.rig.dir, 'hosts', name);
  const vars = { KOK_ROOT: root, KOK_NODE_NAME: name, KOK_NODE_IP: address };
  const fill = (text: string) =>
    text.replace(/\$\((KOK_[A-Z_]+)\)/g, (w, n: keyof typeof vars) => vars[n] ?? w);
  const { components } = cluster.software;
  const component = (key: string): ComponentSpec => {
    const spec = components[key];
    if (!spec) throw new Error(`no Component ${key}`);
    return spec;
  };
  const kubelet = cluster.versions.kubelet.at(-1) as string;
  const template = realHostTemplate({
    kubelet,
    containerd: cluster.versions.containerd[0] as string,
    imageVersions: cluster.software.imageVersions,
    cgroupParent: cluster.rig.cgroupParent,
    kubeProxy: kubelet,
    coreDns: coreDnsVersionFor(kubelet) as string,
    clusterDNS: CLUSTER_DNS,
  });
  for (const file of template.files ?? []) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, fill(file.content ?? ''), { mode: file.mode });
  }
  const install = (component: string, version: string, file: string, at: string) => {
    const path = join(root, at);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(binaries.path(component, version, file), path);
  };
  const containerd = template.components?.find((c) => c.name === COMPONENT_NAMES.containerd)
    ?.version as string;
  for (const file of ['containerd', 'ctr', 'containerd-shim-runc-v2'])
    install('containerd', containerd, file, join(NODE_PATHS.containerd, file));
  install('kubelet', kubelet, 'kubelet', NODE_PATHS.kubelet);
  const importCommand = (spec: ComponentSpec) =>
    spec.install.method === 'Image' ? (spec.install.importCommand ?? []) : [];
  const imageComponents = (template.components ?? [])
    .map((wanted) => ({ wanted, spec: component(wanted.name) }))
    .filter(({ spec }) => spec.install.method === 'Image');
  const imports = [
    ...imageComponents.map(({ wanted, spec }) => {
      const artifact = spec.versions.find((v) => v.version === wanted.version)?.artifact;
      const file = join(cluster.rig.dir, 'artifacts', artifact?.url.split('/').pop() ?? '');
      return shellCommand(importCommand(spec), { ...vars, KOK_ARTIFACT: file });
    }),
    // The control-plane images, with the same command as the image Components.
    ...controlPlaneImages.map((file) =>
      shellCommand(importCommand(imageComponents[0]?.spec as ComponentSpec), { ...vars, KOK_ARTIFACT: file }),
    ),
  ];
  const containerdService = component(COMPONENT_NAMES.containerd).service;
  const kubeletService = component(COMPONENT_NAMES.kubelet).service;
  if (containerdService?.type !== 'Process' || kubeletService?.type !== 'Process')
    throw new Error('containerd and the kubelet run as processes');
  const ctr = `'${join(root, NODE_PATHS.containerd, 'ctr')}' --address '${root}/run/containerd/containerd.sock'`;
  writeFileSync(
    join(root, 'stand-in.sh'),
    [
      'set -e',
      `${shellCommand(containerdService.command ?? [], vars)} > '${root}/containerd.log' 2>&1 &`,
      `for i in $(seq 1 100); do ${ctr} version > /dev/null 2>&1 && break; sleep 0.1; done`,
      ...imports,
      `exec ${shellCommand(kubeletService.command ?? [], vars)} > '${root}/kubelet.log' 2>&1`,
    ].join('\n'),
  );
}

/** `ctr` of host `name`, against its containerd. */
function ctr(name: string, ...args: string[]): string {
  const root = join(cluster.rig.dir, 'hosts', name);
  return execFileSync(
    join(root, NODE_PATHS.containerd, 'ctr'),
    ['--address', `${root}/run/containerd/containerd.sock`, '-n', 'k8s.io', ...args],
    { encoding: 'utf8' },
  );
}

/** Runs `command` in host `name`'s network namespace. */
function inHost(name: string, command: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', cluster.rig.host(name).network.namespace, command, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function diagnostics(): string {
  const tail = (path: string, lines: number) => {
    try {
      return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(none)';
    }
  };
  // The control-plane containers' own logs, as the kubelets keep them: why a member or an apiserver fails.
  const containerLogs = cluster.rig.hosts.flatMap((host) => {
    const dir = join(host.root, 'var/log/pods');
    const files = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
    return files
      .filter((file) => file.startsWith(`${NAMESPACE}_`) && file.endsWith('.log'))
      .map((file) => `--- ${host.name} ${file}:\n${tail(join(dir, file), 8)}`);
  });
  return [
    ...cluster.rig.hosts.map((h) => `--- ${h.name}:\n${h.logTail(10)}`),
    ...containerLogs,
    `--- operator:\n${tail(join(cluster.rig.dir, 'operator.log'), 20)}`,
  ].join('\n');
}

const clusterType = {
  group: 'clusters.kok.dev',
  version: 'v1alpha1',
  namespace: NAMESPACE,
  plural: 'clusters',
};

interface ClusterView {
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    kubeconfigSecretRef?: { name: string; key: string };
    version?: { current?: string; desired?: string };
    lastOperation?: { type: string; state: string };
  };
}

const clusters = () => cluster.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const view = async () =>
  (await clusters().getNamespacedCustomObject({ ...clusterType, name: CLUSTER })) as ClusterView;
const isAvailable = (status: ClusterView['status']) =>
  status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;

/** The image a component runs at Kubernetes `version` (etcd's: the one paired with it, the same for both). */
const imageAt = (component: (typeof COMPONENTS)[number], version: string) =>
  component === 'etcd' ? etcdImage(pairedEtcdVersion(version) as string) : kubeImage(component, version);

/** The Ready (and not terminating) pods of one control-plane component. */
async function componentPods(component: string): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: `clusters.kok.dev/component=${component}`,
  });
  return pods.items.filter((pod) => isReady(pod) && !pod.metadata?.deletionTimestamp);
}

/** Host `name`'s running containers (containerd's tasks), each with the image containerd started it from. */
function runningContainers(name: string): Map<string, string> {
  const running = new Set(
    ctr(name, 'tasks', 'ls')
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/))
      .filter(([, , status]) => status === 'RUNNING')
      .map(([id]) => id as string),
  );
  return new Map(
    ctr(name, 'containers', 'ls')
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/) as [string, string])
      .filter(([id]) => running.has(id)),
  );
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function podsReady(namespace: string, selector: string, count: number): Promise<V1Pod[] | undefined> {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  return pods.length === count && pods.every(isReady) ? pods : undefined;
}

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  binaries = ensureHostBinaries();
  cluster = await startRealHostCluster({ agentCommand: STAND_IN_AGENT });
  core = cluster.controlPlane.kubeConfig.makeApiClient(CoreV1Api);
  objects = KubernetesObjectApi.makeApiClient(cluster.controlPlane.kubeConfig);
  const imagesDir = join(cluster.rig.dir, 'images');
  mkdirSync(imagesDir);
  const versions = pinnedVersions();
  const binariesDir = ensureBinaries();
  const inputs = {
    repoRoot: repositoryRoot,
    nodeBinary: join(repositoryRoot, 'node_modules/node/bin/node'),
    binariesDir,
    kubernetesVersion: versions.kubernetes,
    etcdVersion: versions.etcd,
  };
  // The previous version's build sits beside the pinned one, in a directory named after its version.
  const previousDir = join(dirname(binariesDir), FROM);
  if (basename(binariesDir) !== TO || !existsSync(join(previousDir, 'kube-apiserver')))
    throw new Error(`no ${FROM} build beside ${binariesDir}: run tools/build-binaries.sh`);
  controlPlaneImages = [
    ...CONTROL_PLANE_BINARIES.map((binary) => ({ binary, inputs })),
    // etcd is one image for both: both minors pair the same etcd (asserted by the upgrade scenario).
    ...KUBERNETES_COMPONENTS.map((binary) => ({
      binary,
      inputs: { ...inputs, binariesDir: previousDir, kubernetesVersion: FROM },
    })),
  ].map(({ binary, inputs }) => {
    const file = join(imagesDir, `${binary}-${inputs.kubernetesVersion}.oci.tar`);
    writeFileSync(file, packKokImage(binary, inputs).tarball);
    return file;
  });
}, 300_000);

afterAll(async () => {
  await client?.stop().catch(() => undefined);
  operator?.kill('SIGTERM');
  await cluster?.stop();
}, 120_000);

describe.runIf(runsHere)('a control plane as real containers on real hosts', () => {
  it('two hosts join the meta-cluster with the control-plane images imported', async () => {
    const since = Date.now();
    for (const name of HOSTS) {
      provision(name, cluster.nextAddress());
      await cluster.addHost(name);
    }
    await eventually(
      'two Ready Nodes with pod CIDRs',
      async () => {
        const ready = (await core.listNode()).items.filter(
          (n) =>
            n.spec?.podCIDR && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === HOSTS.length;
      },
      120_000,
      { intervalMs: 250, context: diagnostics },
    );
    console.log(`[real-containers] ${HOSTS.length} hosts Ready in ${seconds(since)} s`);
    for (const name of HOSTS) {
      const images = ctr(name, 'images', 'ls', '-q');
      for (const binary of CONTROL_PLANE_BINARIES) expect(images).toContain(`registry.k8s.io/${binary}:`);
      for (const binary of KUBERNETES_COMPONENTS)
        for (const version of [FROM, TO]) expect(images).toContain(`registry.k8s.io/${binary}:${version}`);
    }
  });

  it('CoreDNS and kube-proxy of the operator’s renderers serve the meta-cluster', async () => {
    const since = Date.now();
    const meta = resolveCluster({
      metadata: { name: 'meta', namespace: 'kube-system' },
      spec: {
        version: cluster.versions.kubelet.at(-1) as string,
        network: { serviceCIDR: META_SERVICE_CIDR, podCIDR: cluster.rig.network.podCidr },
      },
    });
    // The renderer dials the apiserver on the Cluster port (6443); the test control plane listens elsewhere.
    const server = kubeProxyServer(cluster.rig.gateway);
    const manifests = [
      // kube-dns at the address the meta kubelets' clusterDNS names.
      ...coreDnsObjects(meta, coreDnsVersionFor(meta.version) as string, CLUSTER_DNS),
      ...kubeProxyObjects(meta, cluster.rig.gateway),
    ].map((object) => {
      const configMap = object as KubernetesObject & { data?: Record<string, string> };
      if (object.kind !== 'ConfigMap' || !configMap.data) return object;
      const data = Object.fromEntries(
        Object.entries(configMap.data).map(([key, value]) => [
          key,
          value.replaceAll(server, cluster.controlPlane.server),
        ]),
      );
      return { ...configMap, data } as KubernetesObject;
    });
    for (const manifest of manifests) await objects.create(manifest);
    await eventually(
      'kube-proxy and CoreDNS Ready',
      async () =>
        (await podsReady('kube-system', 'k8s-app=kube-proxy', HOSTS.length)) &&
        (await podsReady('kube-system', 'k8s-app=kube-dns', 2)),
      120_000,
      { intervalMs: 500, context: diagnostics },
    );
    console.log(`[real-containers] kube-proxy and CoreDNS Ready in ${seconds(since)} s`);
  });

  it(`a Cluster at ${FROM} becomes Available with every control-plane pod a containerd container on a rig host`, async () => {
    // etcd's volume: a local one on the other host, root's; the pod's fsGroup makes it the image user's.
    const volume = join(cluster.rig.dir, 'volumes', 'etcd-0');
    mkdirSync(volume, { recursive: true });
    await stageMetaCluster({
      controlPlane: cluster.controlPlane,
      crdsDir: join(repositoryRoot, 'crds'),
      namespace: NAMESPACE,
      volumePath: volume,
      volumeNode: HOSTS[1],
    });

    // In a host's network namespace: the operator dials etcd members and the biz apiserver at pod addresses.
    const operatorLog = openSync(join(cluster.rig.dir, 'operator.log'), 'a');
    operator = spawn(
      'ip',
      [
        'netns',
        'exec',
        cluster.rig.host(HOSTS[0]).network.namespace,
        process.execPath,
        'src/main.ts',
        `--kubeconfig=${cluster.controlPlane.kubeconfigPath}`,
        `--namespace=${NAMESPACE}`,
        '--metrics-bind-address=127.0.0.1:18080',
        '--biz-apiserver-dial=pod-ip',
        '--etcd-dial=pod-ip',
      ],
      { cwd: join(repositoryRoot, 'apps/kube-on-kube-operator'), stdio: ['ignore', operatorLog, 'inherit'] },
    );
    closeSync(operatorLog);

    const created = Date.now();
    await clusters().createNamespacedCustomObject({
      ...clusterType,
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: CLUSTER, namespace: NAMESPACE },
        spec: {
          // The previous version: the upgrade scenario moves it to the pinned one.
          version: FROM,
          etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: 'local' } },
          controlPlane: {
            apiServer: { replicas: 1 },
            controllerManager: { replicas: 1 },
            scheduler: { replicas: 1 },
          },
          nodeOperator: { enabled: false },
          addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } },
        },
      },
    });
    let conditions = '';
    const available = await eventually(
      `Cluster ${CLUSTER} Available`,
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify(status?.conditions ?? [], null, 1);
        return isAvailable(status) ? status : undefined;
      },
      240_000,
      {
        intervalMs: 500,
        context: () => `${conditions}\n${diagnostics()}`,
      },
    );
    console.log(`[real-containers] Cluster Available at ${FROM} ${seconds(created)} s after it was created`);
    expect(available.version?.current).toBe(FROM);

    const hostContainers = new Map(HOSTS.map((name) => [name, runningContainers(name)]));
    for (const component of COMPONENTS) {
      const pods = await componentPods(component);
      expect(pods, component).toHaveLength(1);
      const pod = pods[0] as V1Pod;
      const node = pod.spec?.nodeName ?? '';
      expect(HOSTS as readonly string[], component).toContain(node);
      // etcd where its local volume is.
      if (component === 'etcd') expect(node).toBe(HOSTS[1]);
      const id = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      expect(id, component).toMatch(/^containerd:\/\//);
      // containerd runs it from the previous version's image (etcd's is the one both versions pair).
      const image = hostContainers.get(node as (typeof HOSTS)[number])?.get(id.replace('containerd://', ''));
      expect(image, component).toBe(imageAt(component, FROM));
      expect(pod.spec?.containers[0]?.image, component).toBe(image);
    }

    // The admin kubeconfig, pointed at the apiserver Service's ClusterIP (its name stays the TLS server name).
    const ref = available.kubeconfigSecretRef as { name: string; key: string };
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace: NAMESPACE });
    const admin = new KubeConfig();
    admin.loadFromString(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString());
    const serverUrl = new URL(admin.getCurrentCluster()?.server ?? '');
    const service = await core.readNamespacedService({ name: `${CLUSTER}-apiserver`, namespace: NAMESPACE });
    const clusterIP = service.spec?.clusterIP ?? '';
    expect(clusterIP).toMatch(/^10\.0\.0\./);
    const exported = JSON.parse(admin.exportConfig()) as {
      clusters: { name: string; cluster: Record<string, string> }[];
    };
    for (const entry of exported.clusters) {
      entry.cluster['server'] = `https://${clusterIP}:${service.spec?.ports?.[0]?.port ?? serverUrl.port}`;
      entry.cluster['tls-server-name'] = serverUrl.hostname;
    }
    const kubeconfig = join(cluster.rig.dir, 'biz-admin.kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify(exported));
    const kubectl = join(cluster.controlPlane.binDir, 'kubectl');
    // From the other host's namespace: through kube-proxy's rules there, to wherever the apiserver pod runs.
    const ready = await eventually(
      'the biz apiserver /readyz through its ClusterIP',
      () => inHost(HOSTS[1], kubectl, `--kubeconfig=${kubeconfig}`, 'get', '--raw', '/readyz'),
      60_000,
      { intervalMs: 500, context: diagnostics },
    );
    expect(ready.trim()).toBe('ok');
    const namespaces = inHost(HOSTS[1], kubectl, `--kubeconfig=${kubeconfig}`, 'get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/kube-system');
    serviceTarget = {
      host: clusterIP,
      port: service.spec?.ports?.[0]?.port ?? Number(serverUrl.port),
      serverName: serverUrl.hostname,
      caData: admin.getCurrentCluster()?.caData ?? '',
      certData: admin.getCurrentUser()?.certData ?? '',
      keyData: admin.getCurrentUser()?.keyData ?? '',
    };
  });

  it(`spec.version ${FROM} → ${TO} replaces every control-plane container, the apiserver first, while a client keeps talking through the ClusterIP`, async () => {
    // etcd stays: both minors pair the same release (were that to change, this scenario would have to expect etcd first).
    expect(pairedEtcdVersion(FROM)).toBe(pairedEtcdVersion(TO));
    const etcdBefore = (await componentPods('etcd')).map((pod) => pod.metadata?.uid);
    expect(etcdBefore).toHaveLength(1);

    // From the host the operator does not run on: kube-proxy's rules there pick the apiserver pod.
    const talking = startServiceClient(
      cluster.rig.host(HOSTS[1]).network.namespace,
      {
        ...(serviceTarget as NonNullable<typeof serviceTarget>),
        name: 'upgrade',
        pauseMs: 200,
        // kube-proxy (iptables mode) syncs its rules at most once a second: by then a pod that went away is
        // no longer an endpoint.
        retryAfterMs: 2_000,
      },
      join(cluster.rig.dir, 'service-client.json'),
    );
    client = talking;
    const clientContext = () =>
      `client rounds (last 5): ${JSON.stringify(talking.rounds.slice(-5))}\n${diagnostics()}`;
    await eventually(
      `the client answered by the ${FROM} apiserver`,
      () => talking.rounds.some((round) => round.version === FROM),
      30_000,
      { intervalMs: 200, context: clientContext },
    );

    const since = Date.now();
    await clusters().patchNamespacedCustomObject(
      { ...clusterType, name: CLUSTER, body: { spec: { version: TO } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    let conditions = '';
    const upgraded = await eventually(
      `Cluster ${CLUSTER} Available at ${TO}`,
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify({ version: status?.version, conditions: status?.conditions }, null, 1);
        return isAvailable(status) && status?.version?.current === TO ? status : undefined;
      },
      180_000,
      { intervalMs: 500, context: () => `${conditions}\n${clientContext()}` },
    );
    const upgradeSeconds = seconds(since);
    expect(upgraded.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
    await eventually(
      `the client answered by the ${TO} apiserver`,
      () => talking.rounds.some((round) => round.version === TO),
      30_000,
      { intervalMs: 200, context: clientContext },
    );
    client = undefined;
    await talking.stop();

    // Every control-plane container runs the new image, as containerd and the pods see it; the old ones'
    // containers end as their pods go, which may trail the Cluster's Available by a moment.
    await eventually(
      `only ${TO} control-plane containers running`,
      async () => {
        const running = new Map(HOSTS.map((name) => [name, runningContainers(name)]));
        const runningImages = [...running.values()].flatMap((containers) => [...containers.values()]);
        for (const component of COMPONENTS) {
          const pods = await componentPods(component);
          if (pods.length !== 1) return false;
          const pod = pods[0] as V1Pod;
          const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
          const image = running.get(pod.spec?.nodeName as (typeof HOSTS)[number])?.get(id);
          if (image !== imageAt(component, TO) || pod.spec?.containers[0]?.image !== image) return false;
          if (component !== 'etcd' && runningImages.includes(imageAt(component, FROM))) return false;
        }
        return true;
      },
      60_000,
      { intervalMs: 500, context: diagnostics },
    );
    // etcd was not restarted: the same pod throughout.
    expect((await componentPods('etcd')).map((pod) => pod.metadata?.uid)).toEqual(etcdBefore);
    // The apiserver first: every new apiserver pod was created before any new controller-manager or scheduler.
    const createdAt = async (component: string) =>
      (await componentPods(component)).map((pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime());
    const newestApiServer = Math.max(...(await createdAt('kube-apiserver')));
    expect(newestApiServer).toBeGreaterThanOrEqual(since - 1_000);
    for (const component of ['kube-controller-manager', 'kube-scheduler'])
      expect(Math.min(...(await createdAt(component))), component).toBeGreaterThanOrEqual(newestApiServer);

    // The client was served throughout, by both versions, a round that failed saved by its one retry.
    const rounds = talking.rounds;
    expect(rounds.filter((round) => round.error !== undefined)).toEqual([]);
    expect(new Set(rounds.map((round) => round.version))).toEqual(new Set([FROM, TO]));
    expect(rounds.length).toBeGreaterThan(20);
    // What it wrote is there, in the etcd both versions shared.
    const kubeconfig = join(cluster.rig.dir, 'biz-admin.kubeconfig');
    const written = inHost(
      HOSTS[1],
      join(cluster.controlPlane.binDir, 'kubectl'),
      `--kubeconfig=${kubeconfig}`,
      'get',
      'configmaps',
      '-n',
      'default',
      '-o',
      'name',
    )
      .split('\n')
      .filter((line) => line.startsWith('configmap/upgrade-'));
    expect(written).toHaveLength(rounds.length);
    const retried = rounds.filter((round) => round.retriedAfter !== undefined);
    console.log(
      `[real-containers] upgrade ${FROM} → ${TO} in ${upgradeSeconds} s; the client through the ClusterIP: ` +
        `${rounds.length} rounds (GET /version + a write), ${retried.length} retried once, none failed` +
        (retried.length > 0
          ? ` (retried after: ${retried.map((round) => round.retriedAfter).join('; ')})`
          : ''),
    );
  });

  it('teardown leaves nothing of the hosts, their routes, rules or the operator on the machine', async () => {
    operator?.kill('SIGTERM');
    await new Promise<void>((done) => {
      if (!operator || operator.exitCode !== null) done();
      else operator.once('exit', () => done());
    });
    operator = undefined;
    const owns = (entry: string) => cluster.rig.owns(entry);
    await cluster.stop();
    const after = await snapshotMachine();
    expect(leftovers(machineBefore as MachineSnapshot, after, owns)).toEqual({});
    console.log(`[real-containers] test took ${seconds(began)} s`);
  });
});
