/**
 * A meta-cluster whose Nodes are real hosts of the host rig (each its own network namespace,
 * containerd and kubelet, joined by TLS bootstrap), ready to run Clusters' control planes as real
 * containers: CoreDNS and kube-proxy of the operator's own renderers, our images (the control
 * plane's, the operators') packed by our packer and imported into every host's containerd, an etcd
 * volume on one host, and the kube-on-kube-operator installed by helm from its chart, as containers
 * of its image. Used by the local demo (`kok up`), the real-containers e2e test and the
 * `cluster-up --real` benchmark; each step is its own method, so a caller can time and check them
 * one by one.
 *
 * No node-agent on these hosts (its suite is real-hosts.e2e.test.ts): host-rig's stand-in installs
 * what the agent would from the same catalog, our images imported beside the image Components.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { coreDnsVersionFor } from '@kok/api';
import type { AddonCluster } from '@kok/cluster-addons';
import { coreDnsObjects, kubeProxyObjects } from '@kok/cluster-addons';
import type { RealHostCluster } from '@kok/host-rig';
import {
  ensureHostBinaries,
  NODE_PATHS,
  provisionStandInHost,
  STAND_IN_AGENT_COMMAND,
  startRealHostCluster,
} from '@kok/host-rig';
import type { ImageInputs, KokImageName } from '@kok/images';
import { packKokImage } from '@kok/images';
import { stageMetaCluster } from '@kok/pod-runtime';
import { ensureBinaries, eventually, pinnedVersions } from '@kok/testing';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The test control plane's service CIDR is 10.0.0.0/24: its DNS Service sits at the 10th address. */
const CLUSTER_DNS = '10.0.0.10';

export interface ChartOptions {
  /** The namespace of the Clusters (and of the etcd volume's claim). */
  readonly namespace: string;
  /** The host whose local volume etcd's claim binds to. */
  readonly etcdVolumeHost: string;
  readonly release: string;
  readonly releaseNamespace: string;
  /** `--set` values beyond the chart's defaults. */
  readonly values?: readonly string[];
}

/** A Cluster's admin as a pod of the meta-cluster reaches its apiserver: through its Service's ClusterIP. */
export interface ServiceAdmin {
  /** A kubeconfig file that dials the ClusterIP. */
  readonly kubeconfig: string;
  readonly host: string;
  readonly port: number;
  /** The name the apiserver's certificate is checked against. */
  readonly serverName: string;
  /** Base64 PEM, as a kubeconfig holds them. */
  readonly caData: string;
  readonly certData: string;
  readonly keyData: string;
}

/** An image to pack and import on every host: one of ours, from these inputs. */
export interface ImageToImport {
  readonly name: KokImageName;
  readonly inputs: ImageInputs;
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The inputs of our image packer for the pinned versions: the binaries in the cache, Node.js of node_modules. */
export function pinnedImageInputs(): ImageInputs {
  const versions = pinnedVersions();
  return {
    repoRoot: repositoryRoot,
    nodeBinary: join(repositoryRoot, 'node_modules/node/bin/node'),
    binariesDir: ensureBinaries(),
    kubernetesVersion: versions.kubernetes,
    etcdVersion: versions.etcd,
  };
}

/** `ctr tasks ls` (TASK PID STATUS) → each RUNNING task's id and process id. Pure. */
export function runningTasks(table: string): Map<string, number> {
  return new Map(
    table
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(([, , status]) => status === 'RUNNING')
      .map(([id, pid]) => [id as string, Number(pid)]),
  );
}

/** `ctr containers ls` (CONTAINER IMAGE RUNTIME) → the image of each container whose task is in `running`. Pure. */
export function runningContainerImages(
  table: string,
  running: ReadonlyMap<string, number>,
): Map<string, string> {
  return new Map(
    table
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/) as [string, string])
      .filter(([id]) => running.has(id)),
  );
}

export class RealContainerMeta {
  /** The image tarballs, imported on every host as it joins. */
  readonly #imageFiles: string[];
  readonly #binaries = ensureHostBinaries();
  #release: { name: string; namespace: string } | undefined;

  readonly cluster: RealHostCluster;
  /** Each packed image's reference, by name (the last of a name packed more than once). */
  readonly references: ReadonlyMap<KokImageName, string>;

  private constructor(
    cluster: RealHostCluster,
    imageFiles: string[],
    references: ReadonlyMap<KokImageName, string>,
  ) {
    this.cluster = cluster;
    this.#imageFiles = imageFiles;
    this.references = references;
  }

  /** Starts the rig and its meta control plane (no host yet) and packs `images`. */
  static async start(images: readonly ImageToImport[]): Promise<RealContainerMeta> {
    const cluster = await startRealHostCluster({ agentCommand: STAND_IN_AGENT_COMMAND });
    try {
      const dir = join(cluster.rig.dir, 'images');
      mkdirSync(dir);
      const references = new Map<KokImageName, string>();
      const files = images.map(({ name, inputs }, index) => {
        const image = packKokImage(name, inputs);
        references.set(name, image.reference);
        const file = join(dir, `${index}-${name}.oci.tar`);
        writeFileSync(file, image.tarball);
        return file;
      });
      return new RealContainerMeta(cluster, files, references);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get core(): CoreV1Api {
    return this.cluster.controlPlane.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Provisions each host (binaries, files, images), boots it and waits until every one is a Ready Node. */
  async joinHosts(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const kubelet = this.cluster.versions.kubelet.at(-1) as string;
      provisionStandInHost(this.cluster, this.#binaries, {
        name,
        address: this.cluster.nextAddress(),
        template: {
          kubeProxy: kubelet,
          coreDns: coreDnsVersionFor(kubelet) as string,
          clusterDNS: CLUSTER_DNS,
        },
        extraImages: this.#imageFiles,
      });
      await this.cluster.addHost(name);
    }
    await eventually(
      `${names.length} Ready Nodes with pod CIDRs`,
      async () => {
        const ready = (await this.core.listNode()).items.filter(
          (n) =>
            n.spec?.podCIDR && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === names.length;
      },
      120_000,
      { intervalMs: 250, context: () => this.diagnostics() },
    );
  }

  /** CoreDNS (kube-dns where the kubelets' clusterDNS points) and kube-proxy, from the operator's renderers. */
  async deployAddons(hostCount: number): Promise<void> {
    const { cluster } = this;
    const meta: AddonCluster = {
      version: cluster.versions.kubelet.at(-1) as string,
      network: { podCIDR: cluster.rig.network.podCidr, dnsDomain: 'cluster.local' },
    };
    // kube-proxy dials the test control plane, on the rig's gateway where the hosts reach it.
    const manifests = [
      ...coreDnsObjects(meta, coreDnsVersionFor(meta.version) as string, CLUSTER_DNS),
      ...kubeProxyObjects(meta, cluster.controlPlane.server),
    ];
    const objects = KubernetesObjectApi.makeApiClient(cluster.controlPlane.kubeConfig);
    for (const manifest of manifests) await objects.create(manifest);
    const podsReady = async (selector: string, count: number) => {
      const pods = (await this.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: selector }))
        .items;
      return pods.length === count && pods.every(isReady);
    };
    await eventually(
      'kube-proxy and CoreDNS Ready',
      async () =>
        (await podsReady('k8s-app=kube-proxy', hostCount)) && (await podsReady('k8s-app=kube-dns', 2)),
      120_000,
      { intervalMs: 500, context: () => this.diagnostics() },
    );
  }

  /**
   * The Cluster CRDs, the Clusters' namespace and a local volume for etcd (storage class `local`, on one
   * host: root's, the pod's fsGroup makes it the image user's), then the kube-on-kube-operator
   * chart installed by helm from our image (imported on every host: pass `kube-on-kube-operator` to
   * start): its pods run as containers of the meta-cluster, reach biz apiservers and etcd members by
   * their Services' names (the meta-cluster's CoreDNS), and talk to the meta apiserver with their
   * ServiceAccount. Resolves once every replica is Ready.
   */
  async installOperatorChart(options: ChartOptions): Promise<void> {
    const { cluster } = this;
    const volume = join(cluster.rig.dir, 'volumes', 'etcd-0');
    mkdirSync(volume, { recursive: true });
    await stageMetaCluster({
      controlPlane: cluster.controlPlane,
      crdsDir: join(repositoryRoot, 'crds'),
      namespace: options.namespace,
      volumePath: volume,
      volumeNode: options.etcdVolumeHost,
    });
    this.#release = { name: options.release, namespace: options.releaseNamespace };
    this.cluster.helm(
      'install',
      options.release,
      join(repositoryRoot, 'charts/kube-on-kube-operator'),
      '-n',
      options.releaseNamespace,
      '--create-namespace',
      // Only what the host has: no registry is reachable from here.
      '--set',
      'image.pullPolicy=Never',
      ...(options.values ?? []).flatMap((value) => ['--set', value]),
    );
    const apps = cluster.controlPlane.kubeConfig.makeApiClient(AppsV1Api);
    await eventually(
      `the ${options.release} operator's pods Ready`,
      async () => {
        const deployment = await apps.readNamespacedDeployment({
          name: options.release,
          namespace: options.releaseNamespace,
        });
        const wanted = deployment.spec?.replicas ?? 1;
        return deployment.status?.readyReplicas === wanted && deployment.status.updatedReplicas === wanted;
      },
      180_000,
      { intervalMs: 500, context: () => this.diagnostics(options.namespace) },
    );
  }

  /** `helm uninstall --wait` of the operator chart installOperatorChart installed. */
  uninstallOperatorChart(): void {
    const release = this.#release;
    if (!release) return;
    this.cluster.helm('uninstall', release.name, '-n', release.namespace, '--wait', '--timeout', '120s');
    this.#release = undefined;
  }

  /**
   * Local volumes `local-1` … `local-<count>` on host `node` (stageMetaCluster made `local-0`): one for
   * each further Cluster's etcd, as a released volume stays bound to the claim that had it.
   */
  async addLocalVolumes(count: number, node: string): Promise<void> {
    for (let i = 1; i <= count; i++) {
      const path = join(this.cluster.rig.dir, 'volumes', `etcd-${i}`);
      mkdirSync(path, { recursive: true });
      await this.core.createPersistentVolume({
        body: {
          metadata: { name: `local-${i}` },
          spec: {
            storageClassName: 'local',
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            local: { path },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
                ],
              },
            },
          },
        },
      });
    }
  }

  /**
   * Cluster `name`'s admin credentials, its kubeconfig pointed at the apiserver Service's ClusterIP (the
   * name it had stays the TLS server name), written to `file` in the rig's directory; undefined until the
   * Cluster publishes its kubeconfig and the Service has its address.
   */
  async serviceAdmin(namespace: string, name: string, file: string): Promise<ServiceAdmin | undefined> {
    const cluster = (await this.cluster.controlPlane.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({
        group: 'clusters.kok.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'clusters',
        name,
      })) as { status?: { kubeconfigSecretRef?: { name: string; key: string } } };
    const ref = cluster.status?.kubeconfigSecretRef;
    if (!ref) return undefined;
    const secret = await this.core.readNamespacedSecret({ name: ref.name, namespace });
    const service = await this.core.readNamespacedService({ name: `${name}-apiserver`, namespace });
    const host = service.spec?.clusterIP;
    const data = secret.data?.[ref.key];
    if (!host || !data) return undefined;
    const admin = new KubeConfig();
    admin.loadFromString(Buffer.from(data, 'base64').toString());
    const serverUrl = new URL(admin.getCurrentCluster()?.server ?? '');
    const port = service.spec?.ports?.[0]?.port ?? Number(serverUrl.port);
    const exported = JSON.parse(admin.exportConfig()) as {
      clusters: { name: string; cluster: Record<string, string> }[];
    };
    for (const entry of exported.clusters) {
      entry.cluster['server'] = `https://${host}:${port}`;
      entry.cluster['tls-server-name'] = serverUrl.hostname;
    }
    const kubeconfig = join(this.cluster.rig.dir, file);
    writeFileSync(kubeconfig, JSON.stringify(exported), { mode: 0o600 });
    return {
      kubeconfig,
      host,
      port,
      serverName: serverUrl.hostname,
      caData: admin.getCurrentCluster()?.caData ?? '',
      certData: admin.getCurrentUser()?.certData ?? '',
      keyData: admin.getCurrentUser()?.keyData ?? '',
    };
  }

  /** kubectl of the meta control plane's build, run in host `name`'s network namespace. */
  kubectlInHost(name: string, kubeconfig: string, ...args: string[]): string {
    return this.inHost(
      name,
      join(this.cluster.controlPlane.binDir, 'kubectl'),
      `--kubeconfig=${kubeconfig}`,
      ...args,
    );
  }

  /** Uninstalls the operator's chart, then stops every host, the rig and the meta control plane. */
  async stop(): Promise<void> {
    try {
      this.uninstallOperatorChart();
    } catch {
      // The hosts go next, and every container with them.
    }
    await this.cluster.stop();
  }

  /** `ctr` of host `name`, in containerd's k8s.io namespace. */
  ctr(name: string, ...args: string[]): string {
    const root = join(this.cluster.rig.dir, 'hosts', name);
    return execFileSync(
      join(root, NODE_PATHS.containerd, 'ctr'),
      ['--address', `${root}/run/containerd/containerd.sock`, '-n', 'k8s.io', ...args],
      // Its stderr only warns that cgroup v1 is deprecated, on every call.
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  /** Runs `command` in host `name`'s network namespace. */
  inHost(name: string, command: string, ...args: string[]): string {
    return execFileSync(
      'ip',
      ['netns', 'exec', this.cluster.rig.host(name).network.namespace, command, ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  /** Host `name`'s running containers (containerd's tasks), each with the image containerd started it from. */
  runningContainers(name: string): Map<string, string> {
    return runningContainerImages(this.ctr(name, 'containers', 'ls'), this.#runningTasks(name));
  }

  /** The process ids (as this machine numbers them) of the running containers of `image` on every host. */
  containerPids(image: string): number[] {
    return this.cluster.rig.hosts.flatMap((host) => {
      const tasks = this.#runningTasks(host.name);
      // containerd numbers them in its host's PID namespace.
      return [...this.runningContainers(host.name)]
        .filter(([, running]) => running === image)
        .map(([id]) => host.machinePid(tasks.get(id) as number))
        .filter((pid) => pid !== undefined);
    });
  }

  /** Running task id → its process id, from `ctr tasks ls` (TASK PID STATUS). */
  #runningTasks(name: string): Map<string, number> {
    return runningTasks(this.ctr(name, 'tasks', 'ls'));
  }

  /**
   * The hosts' logs, and the container logs of pods in `namespace` (why a member or apiserver fails) and of
   * the operator chart's release.
   */
  diagnostics(namespace?: string): string {
    const tail = (path: string, lines: number) => {
      try {
        return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '(none)';
      }
    };
    const { rig } = this.cluster;
    const namespaces = [namespace, this.#release?.namespace].filter((n) => n !== undefined);
    const containerLogs = rig.hosts.flatMap((host) => {
      const dir = join(host.root, 'var/log/pods');
      const files = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
      return files
        .filter((file) => namespaces.some((n) => file.startsWith(`${n}_`)) && file.endsWith('.log'))
        .map((file) => `--- ${host.name} ${file}:\n${tail(join(dir, file), 8)}`);
    });
    return [...rig.hosts.map((h) => `--- ${h.name}:\n${h.logTail(10)}`), ...containerLogs].join('\n');
  }
}
