// The stage of the real-boot integration tests: a meta-cluster (kcm, scheduler
// and one kwok Node, tainted so it takes none of the real pods) with the kok
// CRDs, a namespace, a `local` StorageClass with one hostPath volume for etcd's
// claim, a LocalPodRuntime whose Node takes the real pods, and the
// kube-on-kube-operator watching the namespace.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ControlPlane } from '@kok/testing';
import { eventually, freePort, startControlPlane } from '@kok/testing';
import { LocalPodRuntime } from '../local-pod-runtime.ts';
import { stageMetaCluster } from '../meta-cluster-stage.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** How long a pod of the booted Cluster may take to become Ready: real binaries on a busy machine. */
const podReadyTimeoutMs = 120_000;

export interface RealBootOptions {
  /** The meta-cluster namespace the operator watches and the Clusters live in. */
  namespace: string;
  /** Prefix of the temporary directory that holds the runtime's state, the volume and written kubeconfigs. */
  workDirPrefix: string;
  /** More flags for the operator, given the work directory (e.g. a snapshot directory inside it). */
  operatorArgs?: (workDir: string) => string[];
}

export interface ClusterConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** status.etcd.lastSnapshot. */
export interface EtcdSnapshotView {
  file: string;
  time: string;
  member: string;
  revision: number;
  sizeBytes: number;
  sha256: string;
  request?: string;
}

/** The parts of a Cluster's status the real-boot tests read. */
export interface ClusterView {
  status?: {
    phase?: string;
    conditions?: ClusterConditionView[];
    version?: { current?: string; desired?: string };
    lastOperation?: { type: string; state: string };
    gates?: { name: string; startedAt: string; completedAt?: string; durationMilliseconds?: number }[];
    kubeconfigSecretRef?: { name: string; key: string };
    certificates?: { caRotation?: { generation: number; phase: string } };
    addons?: Record<'coreDNS' | 'kubeProxy', { replicas?: number; ready?: number; version?: string }>;
    etcd?: {
      members?: { name: string; id: string; isLearner: boolean; healthy: boolean }[];
      leader?: string;
      dbSizeBytes?: number;
      alarms?: { member: string; alarm: string }[];
      lastSnapshot?: EtcdSnapshotView;
    };
  };
}

export interface RealBoot {
  readonly controlPlane: ControlPlane;
  readonly runtime: LocalPodRuntime;
  readonly core: CoreV1Api;
  readonly workDir: string;
  /** The kube-on-kube-operator's process id (it runs as a child process). */
  readonly operatorPid: number;
  /** Every line the runtime logged. */
  readonly logs: string[];
  /** kubectl against the meta-cluster. */
  kubectl(...args: string[]): string;
  /** kubectl with `kubeconfig`; a failure's message carries kubectl's stderr. */
  kubectlWith(kubeconfig: string, ...args: string[]): string;
  /** The tail of the operator's log and of every container log the runtime wrote, for a failure message. */
  containerLogs(): string;
  /**
   * Creates Cluster `name` with one member of each control-plane component, etcd on the `local`
   * volume; `spec` replaces top-level fields of that spec (e.g. `etcd`).
   */
  createCluster(name: string, spec?: Record<string, unknown>): Promise<void>;
  getCluster(name: string): Promise<ClusterView>;
  /** A JSON merge patch of Cluster `name` (metadata and spec). */
  patchCluster(name: string, patch: Record<string, unknown>): Promise<void>;
  podsOf(component: string): Promise<V1Pod[]>;
  /** The Ready pod of `component`, other than `except`; fails with the runtime's and the containers' logs. */
  readyPod(component: string, except?: string): Promise<V1Pod>;
  /**
   * The admin kubeconfig the operator publishes for Cluster `name`, written to `file` in the work dir and
   * pointed at `ip` (the Service name stays the TLS server name). Waits for the Cluster to name its Secret.
   */
  adminKubeconfig(name: string, ip: string, file: string): Promise<string>;
  /**
   * Volumes local-1 … local-<count> of the `local` class, each a directory in the work dir, beside the stage's
   * local-0: one per etcd claim a test makes beyond the first (a released volume stays bound).
   */
  addLocalVolumes(count: number): Promise<void>;
  stop(): Promise<void>;
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

export async function startRealBoot({
  namespace,
  workDirPrefix,
  operatorArgs,
}: RealBootOptions): Promise<RealBoot> {
  const workDir = mkdtempSync(join(tmpdir(), workDirPrefix));
  const logs: string[] = [];
  let controlPlane: ControlPlane | undefined;
  let runtime: LocalPodRuntime | undefined;
  let operator: ChildProcess | undefined;
  const stop = async () => {
    operator?.kill('SIGTERM');
    await runtime?.stop();
    await controlPlane?.stop();
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    controlPlane = await startControlPlane({
      controllerManager: true,
      scheduler: true,
      kwok: true,
      nodes: 1,
    });
    const { binDir, kubeconfigPath, kubeConfig } = controlPlane;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const kubectlWith = (kubeconfig: string, ...args: string[]) =>
      execFileSync(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const kubectl = (...args: string[]) => kubectlWith(kubeconfigPath, ...args);

    // The kwok Node keeps simulated pods; tainted, it takes none of the real ones.
    kubectl('taint', 'node', 'kwok-node-0', 'kok.dev/simulated=true:NoSchedule');
    await stageMetaCluster({
      controlPlane,
      crdsDir: join(repositoryRoot, 'crds'),
      namespace,
      volumePath: join(workDir, 'pv-0'),
    });

    runtime = new LocalPodRuntime({
      kubeConfig,
      binDir,
      stateDir: join(workDir, 'runtime'),
      onLog: (line) => logs.push(line),
    });
    await runtime.start();

    const operatorLog = openSync(join(workDir, 'operator.log'), 'a');
    operator = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${kubeconfigPath}`,
        `--namespace=${namespace}`,
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        // Pod addresses are local here: the operator reaches the biz apiserver to bind the admin kubeconfig's group.
        '--biz-apiserver-dial=pod-ip',
        '--etcd-dial=pod-ip',
        ...(operatorArgs?.(workDir) ?? []),
      ],
      // Its log lines (stdout) to a file a failure message quotes; its crashes (stderr) to the test's output.
      { cwd: join(repositoryRoot, 'apps/kube-on-kube-operator'), stdio: ['ignore', operatorLog, 'inherit'] },
    );
    closeSync(operatorLog);

    const clusters = kubeConfig.makeApiClient(CustomObjectsApi);
    const clusterType = { group: 'clusters.kok.dev', version: 'v1alpha1', namespace, plural: 'clusters' };
    const getCluster = async (name: string) =>
      (await clusters.getNamespacedCustomObject({ ...clusterType, name })) as ClusterView;

    const containerLogs = () => {
      const podsDir = join(workDir, 'runtime', 'pods');
      const tail = (path: string) => readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
      return [
        `--- the operator's last log lines\n${tail(join(workDir, 'operator.log'))}`,
        ...readdirSync(podsDir, { recursive: true, encoding: 'utf8' })
          .filter((file) => file.endsWith('.log'))
          .map((file) => `--- ${file}\n${tail(join(podsDir, file))}`),
      ].join('\n');
    };

    const podsOf = async (component: string) =>
      (await core.listNamespacedPod({ namespace, labelSelector: `clusters.kok.dev/component=${component}` }))
        .items;

    return {
      controlPlane,
      runtime,
      core,
      workDir,
      operatorPid: operator.pid ?? 0,
      logs,
      kubectl,
      kubectlWith,
      containerLogs,
      getCluster,
      podsOf,
      stop,

      async patchCluster(name, patch) {
        await clusters.patchNamespacedCustomObject(
          { ...clusterType, name, body: patch },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      },

      async addLocalVolumes(count) {
        for (let i = 1; i <= count; i++)
          await core.createPersistentVolume({
            body: {
              metadata: { name: `local-${i}` },
              spec: {
                storageClassName: 'local',
                capacity: { storage: '1Gi' },
                accessModes: ['ReadWriteOnce'],
                hostPath: { path: join(workDir, `pv-${i}`) },
              },
            },
          });
      },

      async createCluster(name, spec = {}) {
        await clusters.createNamespacedCustomObject({
          ...clusterType,
          body: {
            apiVersion: 'clusters.kok.dev/v1alpha1',
            kind: 'Cluster',
            metadata: { name, namespace },
            spec: {
              version: 'v1.36.3',
              etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: 'local' } },
              controlPlane: {
                apiServer: { replicas: 1 },
                controllerManager: { replicas: 1 },
                scheduler: { replicas: 1 },
              },
              // No node-operator image runs here; the admin kubeconfig's binding is installed without it.
              nodeOperator: { enabled: false },
              ...spec,
            },
          },
        });
      },

      readyPod: (component, except) =>
        eventually(
          `${component} Ready`,
          async () =>
            (await podsOf(component)).find(
              (pod) => isReady(pod) && pod.metadata?.name !== except && !pod.metadata?.deletionTimestamp,
            ),
          podReadyTimeoutMs,
          250,
        ).catch((error: unknown) => {
          throw new Error(`${String(error)}\nruntime log:\n${logs.join('\n')}\n${containerLogs()}`);
        }),

      async adminKubeconfig(name, ip, file) {
        const ref = await eventually(
          `Cluster ${name} status.kubeconfigSecretRef`,
          async () => (await getCluster(name)).status?.kubeconfigSecretRef,
          60_000,
          250,
        );
        const secret = await core.readNamespacedSecret({ name: ref.name, namespace });
        const config = new KubeConfig();
        config.loadFromString(Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString());
        const server = new URL(config.getCurrentCluster()?.server ?? '');
        const exported = JSON.parse(config.exportConfig()) as {
          clusters: { name: string; cluster: Record<string, string> }[];
        };
        for (const entry of exported.clusters) {
          entry.cluster['server'] = `https://${ip}:${server.port || '443'}`;
          entry.cluster['tls-server-name'] = server.hostname;
        }
        const path = join(workDir, file);
        writeFileSync(path, JSON.stringify(exported));
        // Its group is cluster-admin once the operator bound it in the biz-cluster, shortly after the apiserver is up.
        await eventually(
          `the admin kubeconfig of Cluster ${name} authorized in the biz-cluster`,
          () => {
            try {
              return kubectlWith(path, 'auth', 'can-i', '*', '*').trim() === 'yes';
            } catch {
              return false;
            }
          },
          60_000,
          250,
        );
        return path;
      },
    };
  } catch (error) {
    // A half-started stage leaves no processes behind: the caller has nothing to stop yet.
    await stop();
    throw error;
  }
}
