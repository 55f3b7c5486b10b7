/**
 * The node software of a real host as kok describes it: Components for
 * containerd, the kubelet and the images pods need, their artifacts (packed
 * from the host-binaries cache), and a NodePool template whose files
 * configure them. Everything per host is written with host variables
 * ($(KOK_ROOT), $(KOK_NODE_NAME), $(KOK_NODE_IP)), so one template serves
 * every host of the rig, as it would serve a fleet.
 *
 * Over 400 lines on purpose: the Components, the template and the texts of
 * the config files it writes (containerd, kubelet, CNI, problem monitor)
 * describe one host together; the file texts are the tail.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ComponentSpec, NodePoolSpec, NodePoolTemplate } from '@kok/api';
import { BOOTSTRAP_KUBECONFIG_PATH, CLUSTER_CA_PATH } from '@kok/pki';
import { packCoreDnsImage, packKubeProxyImage } from './addon-images.ts';
import type { HostBinaries } from './host-binaries.ts';
import { createTarArchive } from './tar-archive.ts';
import { pauseImage, pauseImageReference, workloadImage } from './test-images.ts';

/** Host paths of the software (under each agent's --root). */
export const NODE_PATHS = {
  containerd: '/usr/local/lib/containerd',
  kubelet: '/usr/local/bin/kubelet',
  containerdConfig: '/etc/containerd/config.toml',
  cniTemplate: '/etc/containerd/cni-template.conflist',
  kubeletConfig: '/etc/kubernetes/kubelet-config.yaml',
  /** Written by the provisioner (the rig, as `kubectl kok machine bootstrap` prints it), never by a template. */
  bootstrapKubeconfig: BOOTSTRAP_KUBECONFIG_PATH,
  kubeletKubeconfig: '/etc/kubernetes/kubelet.conf',
  caCert: CLUSTER_CA_PATH,
  nodeProblemDetector: '/usr/local/bin/node-problem-detector',
  problemLogMonitor: '/etc/node-problem-detector/kok-problem-monitor.json',
  /** A log of this host alone that node-problem-detector watches (see problemLogMonitor). */
  problemLog: '/var/log/kok-problems.log',
} as const;

/** The Node condition node-problem-detector sets when a line matching PROBLEM_PATTERN appears in the problem log. */
export const HOST_PROBLEM_CONDITION = 'KokHostProblem';
export const PROBLEM_PATTERN = 'KOK-PROBLEM: .*';

export const COMPONENT_NAMES = {
  containerd: 'containerd',
  kubelet: 'kubelet',
  pauseImage: 'pause-image',
  workloadImage: 'workload-image',
  nodeProblemDetector: 'node-problem-detector',
  coreDnsImage: 'coredns-image',
  kubeProxyImage: 'kube-proxy-image',
} as const;

/** The kubelet's defaults: the 10th address of kok's default service CIDR (10.96.0.0/12) and its domain. */
export const DEFAULT_CLUSTER_DNS = '10.96.0.10';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** What containerd and its CNI plugins create on a host (its root, state, opt dir, CNI config and IP leases). */
export const CONTAINERD_DATA_PATHS = [
  '/var/lib/containerd',
  '/run/containerd',
  '/opt/containerd',
  '/etc/cni/net.d',
  '/var/lib/cni',
] as const satisfies readonly string[];
/** What the kubelet creates on a host: its root dir (with the cert dir below it), pod logs and its kubeconfig. */
export const KUBELET_DATA_PATHS = [
  '/var/lib/kubelet',
  '/var/log/pods',
  NODE_PATHS.kubeletKubeconfig,
] as const satisfies readonly string[];

const SOCKET = '$(KOK_ROOT)/run/containerd/containerd.sock';
const CTR = `$(KOK_ROOT)${NODE_PATHS.containerd}/ctr`;
/**
 * sh -c script: $0 is ctr, $1 the socket. Kills and force-deletes every task
 * of the Kubernetes namespace, looking again until none is left (a task can
 * still be starting), and fails saying which remain after 20 tries.
 */
const REMOVE_ALL_CONTAINERS = [
  'set -u',
  'for i in $(seq 1 20); do',
  '  ids=$("$0" --address "$1" -n k8s.io tasks ls -q) || exit 1',
  '  [ -z "$ids" ] && exit 0',
  '  for id in $ids; do',
  '    "$0" --address "$1" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1',
  '    "$0" --address "$1" -n k8s.io tasks rm -f "$id" >/dev/null 2>&1',
  '  done',
  '  sleep 0.5',
  'done',
  'echo "tasks left: $ids" >&2',
  'exit 1',
].join('\n');

export interface NodeSoftwareOptions {
  /** Where the artifacts are written (served by the rig's artifact server). */
  readonly dir: string;
  /** The URL a file in `dir` is served at. */
  readonly urlOf: (file: string) => string;
  readonly binaries: HostBinaries;
  readonly kubeletVersions: readonly string[];
  readonly containerdVersions: readonly string[];
  readonly nodeProblemDetectorVersion: string;
  /** A kube-proxy image is packed for each (the kube-proxy-image Component's versions). */
  readonly kubeProxyVersions: readonly string[];
  /**
   * More versions the kube-proxy-image Component offers, each served by a built one (next patch → built
   * version, e.g. v1.36.4 → v1.36.3): that image carries both tags. Default none.
   */
  readonly kubeProxyAliases?: Readonly<Record<string, string>>;
  /** A CoreDNS image is packed for each (the coredns-image Component's versions). */
  readonly coreDnsVersions: readonly string[];
  /** https://<host>:<port> of the apiserver, as hosts reach it (node-problem-detector needs it spelled out). */
  readonly apiServer: string;
}

export interface NodeSoftware {
  /** Component name → spec. */
  readonly components: Readonly<Record<string, ComponentSpec>>;
  /** The versions of the two images (one each). */
  readonly imageVersions: { readonly pause: string; readonly workload: string };
}

/** Packs the artifacts into `dir` and returns the catalog pointing at them. */
export function buildNodeSoftware(options: NodeSoftwareOptions): NodeSoftware {
  const publish = (file: string, bytes: Buffer) => {
    writeFileSync(join(options.dir, file), bytes);
    return {
      url: options.urlOf(file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      // The rig's artifact server is plain http on the test network; the sha256 still guards the content.
      allowInsecureHttp: true,
    };
  };
  const containerdVersions = options.containerdVersions.map((version) => {
    const binary = (file: string) => ({
      type: 'file' as const,
      path: file,
      mode: 0o755,
      content: readFileSync(options.binaries.path('containerd', version, file)),
    });
    const archive = createTarArchive([
      binary('containerd'),
      binary('ctr'),
      binary('containerd-shim-runc-v2'),
    ]);
    return { version, artifact: publish(`containerd-${version}.tar.gz`, gzipSync(archive)) };
  });
  const kubeletVersions = options.kubeletVersions.map((version) => ({
    version,
    artifact: publish(
      `kubelet-${version}`,
      readFileSync(options.binaries.path('kubelet', version, 'kubelet')),
    ),
  }));
  // A Component version is x.y.z: an image tag like 3.10 becomes 3.10.0.
  const npdVersion = options.nodeProblemDetectorVersion;
  const npd = publish(
    `node-problem-detector-${npdVersion}`,
    readFileSync(options.binaries.path('node-problem-detector', npdVersion, 'node-problem-detector')),
  );
  const imageVersion = (reference: string) => {
    const parts = reference.slice(reference.lastIndexOf(':') + 1).split('.');
    while (parts.length < 3) parts.push('0');
    return parts.join('.');
  };
  const pause = pauseImage();
  const workload = workloadImage();
  const imageComponent = (
    versions: readonly { readonly version: string; readonly file: string; readonly tarball: () => Buffer }[],
  ): ComponentSpec => {
    // One artifact per file: versions sharing an image (an alias and its build) share its artifact.
    const artifacts = new Map<string, ReturnType<typeof publish>>();
    const artifactOf = (file: string, tarball: () => Buffer) => {
      let artifact = artifacts.get(file);
      if (!artifact) artifacts.set(file, (artifact = publish(file, tarball())));
      return artifact;
    };
    return {
      versions: versions.map(({ version, file, tarball }) => ({
        version,
        artifact: artifactOf(file, tarball),
      })),
      install: imageInstall,
    };
  };
  const imageInstall: ComponentSpec['install'] = {
    method: 'Image',
    importCommand: [
      CTR,
      '--address',
      SOCKET,
      '-n',
      'k8s.io',
      'images',
      'import',
      '--local',
      '$(KOK_ARTIFACT)',
    ],
  };
  const aliases = Object.entries(options.kubeProxyAliases ?? {});
  for (const [alias, built] of aliases)
    if (!options.kubeProxyVersions.includes(built))
      throw new Error(`kube-proxy ${alias} is to be served by ${built}, which is not built`);
  const kubeProxyTarball = (built: string) => () =>
    packKubeProxyImage({
      version: built,
      binary: options.binaries.path('kube-proxy', built, 'kube-proxy'),
      extraVersions: aliases.filter(([, b]) => b === built).map(([alias]) => alias),
    }).tarball;
  return {
    imageVersions: { pause: imageVersion(pause.reference), workload: imageVersion(workload.reference) },
    components: {
      [COMPONENT_NAMES.containerd]: {
        versions: containerdVersions,
        install: { method: 'Archive', path: NODE_PATHS.containerd },
        service: {
          type: 'Process',
          command: [
            `$(KOK_ROOT)${NODE_PATHS.containerd}/containerd`,
            '--config',
            `$(KOK_ROOT)${NODE_PATHS.containerdConfig}`,
          ],
          // Leaving the cluster: the pods a drain leaves in place (DaemonSets) outlive the kubelet; their
          // containers (and shims) go before the runtime does.
          beforeRemoval: ['/bin/sh', '-c', REMOVE_ALL_CONTAINERS, CTR, SOCKET],
        },
        // What it creates under the host's root (see containerdConfig and the CNI template): gone when the host leaves.
        dataPaths: [...CONTAINERD_DATA_PATHS],
        // "containerd github.com/containerd/containerd/v2 v2.2.9 <commit>": the binary, not the catalog, says which.
        versionCheck: { command: [`$(KOK_ROOT)${NODE_PATHS.containerd}/containerd`, '--version'] },
        healthCheck: {
          exec: { command: [CTR, '--address', SOCKET, 'version'] },
          periodSeconds: 5,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
      },
      [COMPONENT_NAMES.kubelet]: {
        versions: kubeletVersions,
        install: { method: 'Binary', path: NODE_PATHS.kubelet },
        // Its root and cert dirs (pod volumes, certificates), pod logs and the kubeconfig its bootstrap wrote.
        dataPaths: [...KUBELET_DATA_PATHS],
        service: {
          type: 'Process',
          command: [
            `$(KOK_ROOT)${NODE_PATHS.kubelet}`,
            '--config',
            `$(KOK_ROOT)${NODE_PATHS.kubeletConfig}`,
            '--bootstrap-kubeconfig',
            `$(KOK_ROOT)${NODE_PATHS.bootstrapKubeconfig}`,
            '--kubeconfig',
            `$(KOK_ROOT)${NODE_PATHS.kubeletKubeconfig}`,
            '--cert-dir',
            '$(KOK_ROOT)/var/lib/kubelet/pki',
            '--root-dir',
            '$(KOK_ROOT)/var/lib/kubelet',
            '--hostname-override',
            '$(KOK_NODE_NAME)',
            '--node-ip',
            '$(KOK_NODE_IP)',
          ],
        },
        // "Kubernetes v1.36.3".
        versionCheck: { command: [`$(KOK_ROOT)${NODE_PATHS.kubelet}`, '--version'] },
        healthCheck: {
          http: { url: 'http://127.0.0.1:10248/healthz' },
          periodSeconds: 2,
          timeoutSeconds: 5,
          // A kubelet restarting under a new version answers within seconds; one that exits never does.
          initialDelaySeconds: 5,
          failureThreshold: 3,
        },
      },
      [COMPONENT_NAMES.nodeProblemDetector]: {
        versions: [{ version: npdVersion, artifact: npd }],
        install: { method: 'Binary', path: NODE_PATHS.nodeProblemDetector },
        service: {
          type: 'Process',
          command: [
            `$(KOK_ROOT)${NODE_PATHS.nodeProblemDetector}`,
            `--config.system-log-monitor=$(KOK_ROOT)${NODE_PATHS.problemLogMonitor}`,
            // It reports with the kubelet's own (rotated) credential: NodeRestriction lets it touch only its Node.
            `--apiserver-override=${options.apiServer}?inClusterConfig=false&auth=$(KOK_ROOT)${NODE_PATHS.kubeletKubeconfig}`,
            '--hostname-override=$(KOK_NODE_NAME)',
            '--prometheus-port=0',
          ],
        },
        healthCheck: {
          http: { url: 'http://127.0.0.1:20256/healthz' },
          periodSeconds: 5,
          failureThreshold: 3,
          initialDelaySeconds: 5,
        },
      },
      [COMPONENT_NAMES.pauseImage]: imageComponent([
        { version: imageVersion(pause.reference), file: 'pause.oci.tar', tarball: () => pause.tarball },
      ]),
      [COMPONENT_NAMES.workloadImage]: imageComponent([
        {
          version: imageVersion(workload.reference),
          file: 'busybox.oci.tar',
          tarball: () => workload.tarball,
        },
      ]),
      [COMPONENT_NAMES.kubeProxyImage]: imageComponent(
        [...options.kubeProxyVersions.map((v) => [v, v] as const), ...aliases].map(([version, built]) => ({
          version,
          file: `kube-proxy-${built}.oci.tar`,
          tarball: kubeProxyTarball(built),
        })),
      ),
      [COMPONENT_NAMES.coreDnsImage]: imageComponent(
        options.coreDnsVersions.map((version) => ({
          version,
          file: `coredns-${version}.oci.tar`,
          tarball: () =>
            packCoreDnsImage(version, options.binaries.path('coredns', version, 'coredns')).tarball,
        })),
      ),
    },
  };
}

export interface TemplateOptions {
  readonly kubelet: string;
  /** Run node-problem-detector at this version. Default: not at all. */
  readonly nodeProblemDetector?: string;
  readonly containerd: string;
  readonly imageVersions: NodeSoftware['imageVersions'];
  /** Import the kube-proxy image of this version (a version of the kube-proxy-image Component). Default: none. */
  readonly kubeProxy?: string;
  /** Import the CoreDNS image of this version (a version of the coredns-image Component). Default: none. */
  readonly coreDns?: string;
  /** The kubelet's clusterDNS: the cluster's DNS Service address. Default {@link DEFAULT_CLUSTER_DNS}. */
  readonly clusterDNS?: string;
  /** The kubelet's clusterDomain. Default {@link DEFAULT_CLUSTER_DOMAIN}. */
  readonly clusterDomain?: string;
  /** The cgroup the rig made for each host is `<cgroupParent>/<machine name>`: the kubelet's cgroupRoot. */
  readonly cgroupParent: string;
  /**
   * A failure drill: the kubelet config sets `failCgroupV1: true`, so on this
   * cgroup v1 machine the kubelet exits at start. Default false.
   */
  readonly kubeletRefusesToStart?: boolean;
}

/** The pool template of a real host: the software at the given versions and its configuration files. */
export function realHostTemplate(options: TemplateOptions): NodePoolTemplate {
  return {
    components: [
      { name: COMPONENT_NAMES.containerd, version: options.containerd },
      { name: COMPONENT_NAMES.kubelet, version: options.kubelet },
      { name: COMPONENT_NAMES.pauseImage, version: options.imageVersions.pause },
      { name: COMPONENT_NAMES.workloadImage, version: options.imageVersions.workload },
      ...(options.kubeProxy ? [{ name: COMPONENT_NAMES.kubeProxyImage, version: options.kubeProxy }] : []),
      ...(options.coreDns ? [{ name: COMPONENT_NAMES.coreDnsImage, version: options.coreDns }] : []),
      ...(options.nodeProblemDetector
        ? [{ name: COMPONENT_NAMES.nodeProblemDetector, version: options.nodeProblemDetector }]
        : []),
    ],
    files: [
      ...(options.nodeProblemDetector
        ? [{ path: NODE_PATHS.problemLogMonitor, content: problemLogMonitor(), mode: 0o644 }]
        : []),
      { path: NODE_PATHS.containerdConfig, content: containerdConfig(), mode: 0o644 },
      { path: NODE_PATHS.cniTemplate, content: cniTemplate(), mode: 0o644 },
      {
        path: NODE_PATHS.kubeletConfig,
        content: kubeletConfig({
          cgroupParent: options.cgroupParent,
          refusesToStart: options.kubeletRefusesToStart ?? false,
          clusterDNS: options.clusterDNS ?? DEFAULT_CLUSTER_DNS,
          clusterDomain: options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
        }),
        mode: 0o644,
      },
    ],
  };
}

/**
 * What a change costs a real host: every change drains the node first (the
 * default), and a configuration file restarts the service that reads it —
 * without the restart, a new config would wait for the next version change.
 */
export function realHostDisruptionPolicy(): NonNullable<NodePoolSpec['disruptionPolicy']> {
  return {
    defaultAction: 'Drain',
    files: [
      { path: NODE_PATHS.containerdConfig, action: 'Drain', component: COMPONENT_NAMES.containerd },
      { path: NODE_PATHS.cniTemplate, action: 'Drain', component: COMPONENT_NAMES.containerd },
      { path: NODE_PATHS.kubeletConfig, action: 'Drain', component: COMPONENT_NAMES.kubelet },
    ],
  };
}

/**
 * containerd 2.x (config version 3) with everything under the host's root.
 * OOM score adjustment is restricted because the rig's root may lack
 * CAP_SYS_RESOURCE; the sandbox image is the one the host imported; the CNI
 * config is rendered from the Node's pod CIDR (the kubelet passes it on).
 */
function containerdConfig(): string {
  return `version = 3
root = "$(KOK_ROOT)/var/lib/containerd"
state = "$(KOK_ROOT)/run/containerd"

[grpc]
  address = "${SOCKET}"

[ttrpc]
  address = "${SOCKET}.ttrpc"

[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = "$(KOK_ROOT)/opt/containerd"
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
  [plugins.'io.containerd.cri.v1.images']
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${pauseImageReference}"
  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        runtime_path = "$(KOK_ROOT)${NODE_PATHS.containerd}/containerd-shim-runc-v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "/usr/sbin/runc"
          Root = "$(KOK_ROOT)/run/containerd/runc"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["/usr/lib/cni"]
      conf_dir = "$(KOK_ROOT)/etc/cni/net.d"
      conf_template = "$(KOK_ROOT)${NODE_PATHS.cniTemplate}"
`;
}

/**
 * node-problem-detector's log monitor over this host's problem log: a line
 * `<RFC 3339 time> KOK-PROBLEM: <what>` sets the Node condition
 * KokHostProblem=True until node-problem-detector restarts.
 */
function problemLogMonitor(): string {
  return `${JSON.stringify(
    {
      plugin: 'filelog',
      pluginConfig: {
        timestamp: '^(\\S+)',
        message: '^\\S+ (.*)$',
        timestampFormat: '2006-01-02T15:04:05Z07:00',
      },
      logPath: `$(KOK_ROOT)${NODE_PATHS.problemLog}`,
      // On a restart only new lines count: a restart is how the condition is cleared.
      lookback: '0s',
      bufferSize: 10,
      source: 'kok-problem-monitor',
      conditions: [
        {
          type: HOST_PROBLEM_CONDITION,
          reason: 'NoProblemLogged',
          message: 'no problem in the host problem log',
        },
      ],
      rules: [
        {
          type: 'permanent',
          condition: HOST_PROBLEM_CONDITION,
          reason: 'ProblemLogged',
          pattern: PROBLEM_PATTERN,
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** A bridge in the host's own network namespace, addresses from the Node's pod CIDR, and host ports. */
function cniTemplate(): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'kok',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: '$(KOK_ROOT)/var/lib/cni/networks',
            ranges: [[{ subnet: '{{.PodCIDR}}' }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        // hostPort: DNAT rules in the host's own network namespace (the kubelet hands the CRI the mappings).
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * The kubelet on cgroup v1 with the cgroupfs driver, in its own cgroup root;
 * its ports are the defaults, each host having its own network namespace.
 * It leaves the machine's iptables alone and tolerates swap and a full-ish disk.
 */
function kubeletConfig(options: {
  cgroupParent: string;
  refusesToStart: boolean;
  clusterDNS: string;
  clusterDomain: string;
}): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: ${options.refusesToStart}
cgroupDriver: cgroupfs
cgroupRoot: ${options.cgroupParent}/$(KOK_NODE_NAME)
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://${SOCKET}
podLogsDir: $(KOK_ROOT)/var/log/pods
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $(KOK_ROOT)${NODE_PATHS.caCert}
authorization:
  mode: Webhook
clusterDomain: ${options.clusterDomain}
clusterDNS: [${options.clusterDNS}]
healthzBindAddress: 127.0.0.1
healthzPort: 10248
rotateCertificates: true
# Its serving certificate comes from a CSR too, which the node-operator approves only for the matching Machine.
serverTLSBootstrap: true
failSwapOn: false
makeIPTablesUtilChains: false
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`;
}
