/**
 * A local pod runtime: a kubelet stand-in that runs, for real, the pods the
 * scheduler puts on its own Node. Each pod gets a loopback address, its
 * Secret and ConfigMap volumes as files, its container commands with the
 * locally built binaries, and readiness from its probes run locally. kwok
 * never touches these pods: it manages only Nodes annotated for it.
 *
 * Over 400 lines on purpose: a pod's life here (volumes, processes, probes,
 * status, heartbeats) is one class whose parts share the running pods' state.
 */
import type { V1Container, V1Pod, V1PodStatus, V1Service, KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PathMapping } from './command-line.ts';
import { localArgs } from './command-line.ts';
import { ContainerProcess } from './container-process.ts';
import { hostEntries, renderHostsFile } from './hosts-file.ts';
import type { ExtraImages, ImageCommand } from './image-binary.ts';
import { commandForImage } from './image-binary.ts';
import { registerAndHeartbeat } from './local-node.ts';
import { LoopbackAddresses } from './loopback-addresses.ts';
import type { LoopbackBlock } from './loopback-block.ts';
import { claimLoopbackBlock } from './loopback-block.ts';
import { containerEnv, missingEnvReference } from './pod-environment.ts';
import type { ContainerState, ContainerTermination } from './pod-status.ts';
import { podStatus, statusChanged } from './pod-status.ts';
import { runProbe } from './probe.ts';
import { restartPolicyOf } from './restart-policy.ts';
import { setupRetryDelayMs } from './setup-retry.ts';
import { containerTermination } from './termination-message.ts';
import type { VolumeSources } from './volumes.ts';
import { claimNotMountable, materializeVolumes, sharesClaim, VolumeError } from './volumes.ts';

export interface LocalPodRuntimeOptions {
  /** Credentials of the meta-cluster (it reads Pods, Services, Secrets, ConfigMaps; writes Pod and Node status). */
  readonly kubeConfig: KubeConfig;
  /**
   * The directory of the etcd, etcdutl, kube-apiserver, kube-controller-manager and kube-scheduler binaries. Named
   * after a Kubernetes version (the build cache), its siblings hold other versions' builds (image-binary.ts).
   */
  readonly binDir: string;
  /** The Node to register and run the pods of. Default: `kok-local-runtime`. */
  readonly nodeName?: string;
  /** Where pods' volumes, logs and claims' data live. Default: a new temp dir, removed by stop(). */
  readonly stateDir?: string;
  /** How often to look at pods, report status and probe. Default: 500 ms. */
  readonly syncIntervalMs?: number;
  /** Run each process with a private /etc/hosts (`unshare --mount`, needs root). Default: when `unshare --mount true` works. */
  readonly privateHosts?: boolean;
  /**
   * When an image's Kubernetes version has no build, run binDir's build of that binary in its place, and
   * say so in the log, instead of failing the container with ErrImagePull. For a local stack that moves
   * between tags of one build; a test of a real version change leaves it off. Default false.
   */
  readonly substituteUnbuiltVersions?: boolean;
  /** Images to run besides the control-plane binaries, by repository name (e.g. the node-operator's). */
  readonly extraImages?: ExtraImages;
  /** The kubeletVersion the Node reports. Default: `v0.0.0-local`. */
  readonly kubeletVersion?: string;
  /** Progress and errors, one line each. Default: silent. */
  readonly onLog?: (message: string) => void;
}

interface RunningContainer {
  readonly spec: V1Container;
  readonly env: Record<string, string>;
  readonly process: ContainerProcess | undefined;
  ready: boolean;
  lastProbe: number;
  waiting?: { reason: string; message?: string };
  /** Set once its process ended for good; kept, so its log is read once. */
  terminated?: ContainerTermination;
}

interface RunningPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Acquired when the pod is first seen, released when it is stopped: one address for its lifetime. */
  readonly ip: string;
  readonly dir: string;
  readonly startTime: Date;
  containers: RunningContainer[];
  pod: V1Pod;
  /** Volumes made and processes started; until then setup is retried with a backoff. */
  started: boolean;
  setupFailures: number;
  nextSetupAt: number;
}

/** Whether this machine lets us give a process its own mount table. */
export function canUsePrivateMounts(): boolean {
  return spawnSync('unshare', ['--mount', 'true'], { stdio: 'ignore' }).status === 0;
}

export class LocalPodRuntime {
  readonly nodeName: string;
  /** The hosts file the processes see as /etc/hosts. */
  readonly hostsFile: string;
  readonly stateDir: string;
  readonly #options: LocalPodRuntimeOptions;
  readonly #core: CoreV1Api;
  readonly #block: LoopbackBlock;
  readonly #addresses: LoopbackAddresses;
  readonly #pods = new Map<string, RunningPod>();
  /**
   * Pods being stopped, by uid: signalled, their processes not yet gone. Stopped beside the loop, as a
   * kubelet keeps syncing other pods while one terminates (an apiserver serves out its shutdown delay).
   */
  readonly #stopping = new Map<string, { readonly pod: RunningPod; readonly done: Promise<void> }>();
  readonly #privateHosts: boolean;
  readonly #ownsStateDir: boolean;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #stopped = false;
  #lastHeartbeat = 0;

  constructor(options: LocalPodRuntimeOptions) {
    this.#options = options;
    this.nodeName = options.nodeName ?? 'kok-local-runtime';
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#block = claimLoopbackBlock();
    this.#addresses = new LoopbackAddresses(this.#block.block);
    this.#ownsStateDir = !options.stateDir;
    this.stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'kok-pod-runtime-'));
    mkdirSync(this.stateDir, { recursive: true });
    this.hostsFile = join(this.stateDir, 'hosts');
    writeFileSync(this.hostsFile, renderHostsFile([]));
    this.#privateHosts = options.privateHosts ?? canUsePrivateMounts();
    if (!this.#privateHosts)
      this.#log(
        'no private mount namespace (unshare --mount failed): Service names will not resolve inside pods',
      );
  }

  /** The loopback address of a pod the runtime runs, if any. */
  podIP(namespace: string, name: string): string | undefined {
    for (const pod of this.#pods.values())
      if (pod.namespace === namespace && pod.name === name) return pod.ip;
    return undefined;
  }

  /** Registers the Node and starts syncing; resolves after the first sync. */
  async start(): Promise<void> {
    await registerAndHeartbeat(this.#core, this.nodeName, this.#kubeletVersion);
    this.#lastHeartbeat = Date.now();
    await this.#sync();
    const loop = () => {
      if (this.#stopped) return;
      this.#syncing = this.#sync().finally(() => {
        this.#timer = setTimeout(loop, this.#options.syncIntervalMs ?? 500);
      });
    };
    this.#timer = setTimeout(loop, this.#options.syncIntervalMs ?? 500);
  }

  /** Stops every process (their pods stay in the API) and removes the temp state dir it made. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#syncing?.catch(() => undefined);
    await Promise.all([
      ...[...this.#pods.values()].map((pod) => this.#stopPod(pod)),
      ...[...this.#stopping.values()].map((stopping) => stopping.done),
    ]);
    this.#block.release();
    if (this.#ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  get #kubeletVersion() {
    return this.#options.kubeletVersion ?? 'v0.0.0-local';
  }

  #log(message: string) {
    this.#options.onLog?.(message);
  }

  async #sync(): Promise<void> {
    try {
      if (Date.now() - this.#lastHeartbeat > 10_000) {
        await registerAndHeartbeat(this.#core, this.nodeName, this.#kubeletVersion);
        this.#lastHeartbeat = Date.now();
      }
      const pods = (
        await this.#core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.nodeName}` })
      ).items;
      const seen = new Set<string>();
      for (const pod of pods) {
        const uid = pod.metadata?.uid ?? '';
        seen.add(uid);
        const running = this.#pods.get(uid);
        if (pod.metadata?.deletionTimestamp) {
          // Like a kubelet: once the containers are gone, the pod object may go.
          const forget = () => this.#deletePodObject(pod);
          if (running) this.#beginStop(running, forget);
          else if (!this.#stopping.has(uid)) await forget();
          continue;
        }
        // Like a kubelet, a pod that already succeeded or failed is not run again (by a new runtime).
        if (!running && isCompleted(pod)) continue;
        const admitted = running ?? this.#admit(pod);
        admitted.pod = pod;
        if (!admitted.started && Date.now() >= admitted.nextSetupAt && !this.#claimStillInUse(pod))
          await this.#setUp(admitted);
      }
      for (const [uid, pod] of this.#pods) if (!seen.has(uid)) this.#beginStop(pod);
      await this.#writeHostsFile(pods);
      await Promise.all([...this.#pods.values()].map((pod) => this.#probeAndReport(pod)));
    } catch (error) {
      this.#log(`sync: ${(error as Error).message}`);
    }
  }

  /** Takes a pod on: its address and dir, its containers waiting until it is set up. */
  #admit(pod: V1Pod): RunningPod {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const dir = join(this.stateDir, 'pods', `${namespace}_${name}_${uid}`);
    mkdirSync(dir, { recursive: true });
    const running: RunningPod = {
      uid,
      namespace,
      name,
      ip: this.#addresses.acquire(uid),
      dir,
      startTime: new Date(),
      containers: waitingContainers(pod, 'ContainerCreating'),
      pod,
      started: false,
      setupFailures: 0,
      nextSetupAt: 0,
    };
    this.#pods.set(uid, running);
    return running;
  }

  /** Makes the pod's volumes and starts its processes; on failure, says why and schedules the next try. */
  async #setUp(running: RunningPod): Promise<void> {
    const { pod, namespace, name, ip, dir } = running;
    let volumeDirs: Map<string, string>;
    let lookup: (kind: 'secret' | 'configMap', name: string, key: string) => string | undefined;
    try {
      const sources = await this.#volumeSources(pod);
      lookup = (kind, name, key) => sources[kind](name)?.[key]?.toString('utf8');
      // Like the kubelet, a container whose env needs a key that is not there is not started.
      const missing = (pod.spec?.containers ?? []).map((c) => missingEnvReference(c, lookup)).find(Boolean);
      if (missing) throw new VolumeError(missing);
      volumeDirs = materializeVolumes(pod, sources, {
        podDir: dir,
        claimsDir: join(this.stateDir, 'claims'),
      });
    } catch (error) {
      running.setupFailures += 1;
      running.nextSetupAt = Date.now() + setupRetryDelayMs(running.setupFailures);
      if (!(error instanceof VolumeError)) {
        // The API did not answer: nothing to tell the pod's owner, the status keeps what it said.
        this.#log(`${namespace}/${name}: preparing volumes: ${(error as Error).message}`);
        return;
      }
      if (running.containers[0]?.waiting?.message !== error.message)
        this.#log(`${namespace}/${name}: ${error.message}`);
      running.containers = waitingContainers(pod, 'ContainerCreating', error.message);
      return;
    }
    running.started = true;
    running.containers = [];
    const facts = { podIP: ip, nodeName: this.nodeName };
    for (const spec of pod.spec?.containers ?? []) {
      const image = this.#commandFor(spec.image ?? '', spec.command ?? [], `${namespace}/${name}`);
      const env = containerEnv(pod, spec, facts, lookup);
      const missing = !image
        ? `no local binary stands in for image ${spec.image}`
        : !existsSync(image.argv[0])
          ? `no local build of ${image.name} for image ${spec.image}: ${image.argv[0]} does not exist`
          : undefined;
      if (!image || missing) {
        this.#log(`${namespace}/${name}: ${missing}`);
        running.containers.push({
          spec,
          env,
          process: undefined,
          ready: false,
          lastProbe: 0,
          waiting: { reason: 'ErrImagePull', message: missing ?? '' },
        });
        continue;
      }
      const mappings: PathMapping[] = (spec.volumeMounts ?? []).flatMap((mount) => {
        const local = volumeDirs.get(mount.name);
        return local
          ? [{ mountPath: mount.mountPath, localPath: mount.subPath ? join(local, mount.subPath) : local }]
          : [];
      });
      const args = localArgs({
        binary: image.name,
        command: spec.command ?? [],
        args: spec.args ?? [],
        env,
        mappings,
        podIP: ip,
      });
      const process = new ContainerProcess({
        file: image.argv[0],
        args: [...image.argv.slice(1), ...args],
        env,
        hostsFile: this.#privateHosts ? this.hostsFile : undefined,
        logFile: join(dir, `${spec.name}.log`),
        restartPolicy: restartPolicyOf(pod.spec?.restartPolicy),
      });
      process.start();
      running.containers.push({ spec, env, process, ready: false, lastProbe: 0 });
      this.#log(`${namespace}/${name}: started ${image.name} on ${ip}`);
    }
  }

  /** What runs a container of `image`: its version's build, or binDir's when substituting is allowed. */
  #commandFor(image: string, containerCommand: readonly string[], pod: string): ImageCommand | undefined {
    const { binDir, extraImages, substituteUnbuiltVersions } = this.#options;
    const command = commandForImage(image, binDir, extraImages, containerCommand);
    if (!command || existsSync(command.argv[0]) || !substituteUnbuiltVersions) return command;
    const substitute = join(binDir, command.name);
    if (!existsSync(substitute)) return command;
    this.#log(`${pod}: no build of ${command.name} for image ${image}; running ${substitute} in its place`);
    return { name: command.name, argv: [substitute] };
  }

  async #volumeSources(pod: V1Pod): Promise<VolumeSources> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const names = { secret: new Set<string>(), configMap: new Set<string>() };
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.secret?.secretName) names.secret.add(volume.secret.secretName);
      if (volume.configMap?.name) names.configMap.add(volume.configMap.name);
      for (const source of volume.projected?.sources ?? []) {
        if (source.secret?.name) names.secret.add(source.secret.name);
        if (source.configMap?.name) names.configMap.add(source.configMap.name);
      }
    }
    for (const variable of (pod.spec?.containers ?? []).flatMap((c) => c.env ?? [])) {
      const from = variable.valueFrom;
      if (from?.secretKeyRef?.name) names.secret.add(from.secretKeyRef.name);
      if (from?.configMapKeyRef?.name) names.configMap.add(from.configMapKeyRef.name);
    }
    const secrets = new Map<string, Record<string, Buffer>>();
    const configMaps = new Map<string, Record<string, Buffer>>();
    const notFound = (error: unknown) => {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    };
    for (const name of names.secret) {
      const secret = await this.#core.readNamespacedSecret({ name, namespace }).catch(notFound);
      if (secret)
        secrets.set(
          name,
          Object.fromEntries(
            Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
          ),
        );
    }
    for (const name of names.configMap) {
      const configMap = await this.#core.readNamespacedConfigMap({ name, namespace }).catch(notFound);
      if (configMap)
        configMaps.set(name, {
          ...Object.fromEntries(Object.entries(configMap.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
          ...Object.fromEntries(
            Object.entries(configMap.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
          ),
        });
    }
    const claimHostPaths = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      const claimName = volume.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const claim = await this.#core
        .readNamespacedPersistentVolumeClaim({ name: claimName, namespace })
        .catch(notFound);
      const notMountable = claimNotMountable(namespace, claimName, claim);
      if (notMountable) throw new VolumeError(notMountable);
      const volumeName = claim?.spec?.volumeName;
      const bound = volumeName
        ? await this.#core.readPersistentVolume({ name: volumeName }).catch(notFound)
        : undefined;
      if (bound?.spec?.hostPath?.path) claimHostPaths.set(claimName, bound.spec.hostPath.path);
    }
    return {
      secret: (name) => secrets.get(name),
      configMap: (name) => configMaps.get(name),
      claimHostPath: (name) => claimHostPaths.get(name),
    };
  }

  /** Stops `pod` without holding up the loop, then runs `afterwards`; stop() waits for it. */
  #beginStop(pod: RunningPod, afterwards?: () => Promise<void>): void {
    const done = this.#stopPod(pod)
      .then(afterwards)
      .catch((error: unknown) =>
        this.#log(`${pod.namespace}/${pod.name}: stopping: ${(error as Error).message}`),
      )
      .finally(() => this.#stopping.delete(pod.uid));
    this.#stopping.set(pod.uid, { pod, done });
  }

  async #deletePodObject(pod: V1Pod): Promise<void> {
    await this.#core
      .deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        gracePeriodSeconds: 0,
      })
      .catch(() => undefined);
  }

  /**
   * Whether a pod still stopping mounts a claim `pod` mounts. The new pod waits for it, as a kubelet
   * waits for the volume: a StatefulSet's replacement of a force-deleted pod must not run on the data
   * while the old process still writes it.
   */
  #claimStillInUse(pod: V1Pod): boolean {
    return [...this.#stopping.values()].some((stopping) => sharesClaim(stopping.pod.pod, pod));
  }

  /** Stops the pod's processes (SIGTERM, SIGKILL after its grace period, at most 10 s), then frees its address and dir. */
  async #stopPod(pod: RunningPod): Promise<void> {
    this.#pods.delete(pod.uid);
    const grace = (pod.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all(pod.containers.map((c) => c.process?.stop(Math.min(grace, 10_000))));
    this.#addresses.release(pod.uid);
    rmSync(pod.dir, { recursive: true, force: true });
    this.#log(`${pod.namespace}/${pod.name}: stopped`);
  }

  async #writeHostsFile(pods: readonly V1Pod[]): Promise<void> {
    const namespaces = [...new Set(pods.map((pod) => pod.metadata?.namespace ?? 'default'))];
    const services: V1Service[] = [];
    for (const namespace of namespaces)
      services.push(...(await this.#core.listNamespacedService({ namespace })).items);
    const ipOf = (pod: V1Pod) => this.#pods.get(pod.metadata?.uid ?? '')?.ip;
    const content = renderHostsFile(hostEntries(services, pods, ipOf));
    // Rewritten in place, never replaced: the processes see this inode through a bind mount.
    if (!existsSync(this.hostsFile) || readFileSync(this.hostsFile, 'utf8') !== content)
      writeFileSync(this.hostsFile, content);
  }

  async #probeAndReport(pod: RunningPod): Promise<void> {
    const now = Date.now();
    await Promise.all(
      pod.containers.map(async (container) => {
        const process = container.process;
        if (!process?.running) {
          container.ready = false;
          return;
        }
        const probe = container.spec.readinessProbe;
        if (!probe) {
          container.ready = true;
          return;
        }
        const startedAt = process.startedAt?.getTime() ?? now;
        if (now - startedAt < (probe.initialDelaySeconds ?? 0) * 1000) return;
        if (now - container.lastProbe < (probe.periodSeconds ?? 10) * 1000) return;
        container.lastProbe = now;
        const ready = await runProbe(probe, container.spec, pod.ip, container.env);
        if (ready !== container.ready)
          this.#log(`${pod.namespace}/${pod.name}: ${container.spec.name} ready=${ready}`);
        container.ready = ready;
      }),
    );
    await this.#report(pod);
  }

  async #report(pod: RunningPod): Promise<void> {
    const containers: ContainerState[] = pod.containers.map((c) => {
      const p = c.process;
      if (p?.finished && p.lastExit && !c.terminated)
        c.terminated = containerTermination(c.spec, p.lastExit, () => readLog(p.spec.logFile));
      const waiting =
        c.waiting ??
        (p && !p.running && p.lastExit && !c.terminated
          ? { reason: 'CrashLoopBackOff', message: `exit code ${p.lastExit.exitCode}` }
          : undefined);
      return {
        name: c.spec.name,
        image: c.spec.image ?? '',
        ...(p?.running && p.startedAt ? { startedAt: p.startedAt } : {}),
        ...(waiting ? { waiting } : {}),
        // A terminated container's last exit is its current state, not a previous one.
        ...(p?.lastExit && !c.terminated ? { lastExit: p.lastExit } : {}),
        ...(c.terminated ? { terminated: c.terminated } : {}),
        ready: c.ready,
        restartCount: p?.restartCount ?? 0,
      };
    });
    const current: V1PodStatus | undefined = pod.pod.status;
    const next = podStatus(
      { podIP: pod.ip, hostIP: '127.0.0.1', startTime: pod.startTime, containers },
      current,
      new Date(),
    );
    if (!statusChanged(current, next)) return;
    this.#log(
      `${pod.namespace}/${pod.name}: reporting ${next.phase}, ready=${containers.every((c) => c.ready)}`,
    );
    try {
      pod.pod = await this.#core.patchNamespacedPodStatus(
        { name: pod.name, namespace: pod.namespace, body: { status: next } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      this.#log(`${pod.namespace}/${pod.name}: reporting status: ${(error as Error).message}`);
    }
  }
}

function isCompleted(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A container's log, or nothing when it cannot be read (the pod's dir is being removed). */
function readLog(logFile: string): Buffer {
  try {
    return readFileSync(logFile);
  } catch {
    return Buffer.alloc(0);
  }
}

function waitingContainers(pod: V1Pod, reason: string, message?: string): RunningContainer[] {
  return (pod.spec?.containers ?? []).map((spec) => ({
    spec,
    env: {},
    process: undefined,
    ready: false,
    lastProbe: 0,
    waiting: { reason, ...(message ? { message } : {}) },
  }));
}

/** Starts a runtime (see LocalPodRuntime); stop it with `stop()`. */
export async function startLocalPodRuntime(options: LocalPodRuntimeOptions): Promise<LocalPodRuntime> {
  const runtime = new LocalPodRuntime(options);
  await runtime.start();
  return runtime;
}
