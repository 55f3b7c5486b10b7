import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, pinnedVersions } from './binaries.ts';
import {
  apiServerSpec,
  controllerManagerSpec,
  etcdSpec,
  kwokSpec,
  schedulerSpec,
  type ExtraArgs,
  type Layout,
} from './components.ts';
import { nodeBootstrapRbac } from '@kok/pki';
import {
  apiServerKubeletClientName,
  createControlPlanePki,
  kubeconfigFor,
  kubeconfigForUser,
} from './control-plane-pki.ts';
import { freePort } from './free-port.ts';
import { kwokNodeAnnotation, kwokStages } from './kwok-stages.ts';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import { retryWhenPortTaken } from './port-taken-retry.ts';
import { Reaper } from './reaper.ts';

export interface ControlPlaneOptions {
  /** Run kube-controller-manager (Deployments, garbage collection, ServiceAccounts…). Default: false. */
  readonly controllerManager?: boolean;
  /** Run kube-scheduler. Default: false. */
  readonly scheduler?: boolean;
  /** Run kwok, which makes annotated Nodes Ready and scheduled Pods Running. Default: false. */
  readonly kwok?: boolean;
  /** Create this many kwok Nodes (`kwok-node-<i>`) and wait until they are Ready; needs `kwok`. Default: 0. */
  readonly nodes?: number;
  /** Parent of the temp dir. Default: the OS temp dir. */
  readonly baseDir?: string;
  /** Extra flags per component. Default: none. */
  readonly extraArgs?: ExtraArgs;
  /**
   * Real kubelets join, as on a kubeadm cluster: the apiserver listens on
   * `address` (e.g. a host rig's gateway, instead of 127.0.0.1) and accepts
   * bootstrap tokens, authorizes Nodes (Node authorizer, NodeRestriction) and
   * reaches kubelets with its own client certificate; the controller-manager
   * signs kubelet CSRs and gives each Node a pod CIDR. Default: none.
   */
  readonly joinable?: { readonly address: string };
  /** Progress lines ("kube-apiserver ready in 4.1s"). Default: silent. */
  readonly onProgress?: (message: string) => void;
}

export interface ControlPlaneProcess {
  readonly name: string;
  readonly pid: number | undefined;
}

export interface ControlPlane {
  /** Admin (system:masters) kubeconfig file. */
  readonly kubeconfigPath: string;
  /** The same kubeconfig, loaded. */
  readonly kubeConfig: KubeConfig;
  /** https://127.0.0.1:<port> (or the joinable address) */
  readonly server: string;
  /** The temp dir holding data, certificates and logs; gone after stop(). */
  readonly dir: string;
  /** The directory of the binaries it runs (kubectl and helm too). */
  readonly binDir: string;
  /** The running processes, for inspection. */
  processes(): ControlPlaneProcess[];
  /** The cluster CA's certificate and key files: another process (a test worker) issues client certificates with them. */
  readonly caFiles: { readonly certificate: string; readonly key: string };
  /** Issues a client kubeconfig for any user and groups, signed by the cluster CA (RBAC decides what it may do). */
  kubeconfigForUser(user: string, groups?: readonly string[]): Promise<string>;
  /** Stops only kube-apiserver; etcd keeps the data. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port. */
  startApiServer(): Promise<void>;
  /** Stops every process and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a real control plane on free loopback ports: etcd and kube-apiserver
 * (secure port, client-certificate auth, RBAC, service-account keys), plus
 * kube-controller-manager, kube-scheduler and kwok when asked.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  if (options.nodes && !options.kwok) throw new Error('startControlPlane: `nodes` needs `kwok: true`');
  const binDir = ensureBinaries();
  const versions = pinnedVersions();
  const reaper = new Reaper();
  const dir = mkdtempSync(join(options.baseDir ?? tmpdir(), 'kok-control-plane-'));
  reaper.watchDirectory(dir);

  const started: ManagedProcess[] = [];
  let apiServer: ManagedProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse order: clients before the apiserver, the apiserver before etcd.
    for (const component of [...started].reverse()) await component.stop();
    rmSync(dir, { recursive: true, force: true });
    reaper.release();
  };

  try {
    const address = options.joinable?.address ?? '127.0.0.1';
    const pki = await createControlPlanePki(options.joinable?.address);
    const ports = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiServer: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
      kwok: await freePort(),
    };
    const pkiDir = join(dir, 'pki');
    mkdirSync(pkiDir, { mode: 0o700 });
    const file = (name: string, content: string) => {
      const path = join(pkiDir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    // The kubeconfigs name the apiserver's port: a start on a fresh port writes them again.
    const writeKubeconfigs = (apiServerPort: number) => {
      const server = `https://${address}:${apiServerPort}`;
      writeFileSync(kubeconfigPath, kubeconfigFor(pki, server, 'kok-admin', pki.admin), { mode: 0o600 });
      return {
        server,
        controllerManagerKubeconfig: file(
          'controller-manager.kubeconfig',
          kubeconfigFor(pki, server, 'system:kube-controller-manager', pki.controllerManager),
        ),
        schedulerKubeconfig: file(
          'scheduler.kubeconfig',
          kubeconfigFor(pki, server, 'system:kube-scheduler', pki.scheduler),
        ),
        kwokKubeconfig: file('kwok.kubeconfig', kubeconfigFor(pki, server, 'kwok-controller', pki.kwok)),
      };
    };
    const { server: firstServer, ...kubeconfigFiles } = writeKubeconfigs(ports.apiServer);
    let server = firstServer;
    let layout: Layout = {
      dir,
      binDir,
      pki,
      ports,
      address,
      joinable: options.joinable !== undefined,
      files: {
        caKey: file('ca.key', pki.ca.privateKeyPem),
        kubeletClientCert: file('kubelet-client.crt', pki.kubeletClient.certificatePem),
        kubeletClientKey: file('kubelet-client.key', pki.kubeletClient.privateKeyPem),
        caCert: file('ca.crt', pki.ca.certificatePem),
        apiServerCert: file('apiserver.crt', pki.apiServerServing.certificatePem),
        apiServerKey: file('apiserver.key', pki.apiServerServing.privateKeyPem),
        serviceAccountKey: file('sa.key', pki.serviceAccount.privateKeyPem),
        serviceAccountPub: file('sa.pub', pki.serviceAccount.publicKeyPem),
        ...kubeconfigFiles,
        kwokConfig: file('kwok.yaml', kwokStages(versions.kubernetes)),
      },
    };

    const extra = options.extraArgs ?? {};
    const launch = async (component: ManagedProcess) => {
      const began = performance.now();
      started.push(component);
      try {
        await component.start();
      } catch (error) {
        started.splice(started.indexOf(component), 1);
        await component.stop();
        throw error;
      }
      progress(`${component.spec.name} ready in ${((performance.now() - began) / 1000).toFixed(1)}s`);
      return component;
    };

    // A picked port is only free until someone binds it. etcd and the apiserver start again on fresh
    // ports, and what names those ports (the apiserver's flags, the kubeconfigs) follows.
    const onRetry = (name: string) => () =>
      progress(`${name}: its port was taken meanwhile, starting again on another one`);
    await retryWhenPortTaken(
      async (fresh) => {
        if (fresh) {
          rmSync(join(dir, 'etcd'), { recursive: true, force: true });
          const moved = { etcdClient: await freePort(), etcdPeer: await freePort() };
          layout = { ...layout, ports: { ...layout.ports, ...moved } };
        }
        return launch(new ManagedProcess(etcdSpec(layout, extra.etcd), reaper));
      },
      { onRetry: onRetry('etcd') },
    );
    const apiServerProcess = () =>
      new ManagedProcess(
        apiServerSpec(layout, { serviceAccountAdmission: !!options.controllerManager }, extra.apiServer),
        reaper,
      );
    apiServer = await retryWhenPortTaken(
      async (fresh) => {
        if (fresh) {
          const port = await freePort();
          const { server: moved, ...files } = writeKubeconfigs(port);
          server = moved;
          layout = { ...layout, ports: { ...layout.ports, apiServer: port }, files: { ...layout.files, ...files } };
        }
        return launch(apiServerProcess());
      },
      { onRetry: onRetry('kube-apiserver') },
    );
    // Their ports were picked seconds ago: another listener on this machine may have taken one meanwhile.
    const launchOnFreshPort = (
      port: 'controllerManager' | 'scheduler' | 'kwok',
      specFor: (layout: Layout) => ProcessSpec,
    ): Promise<ManagedProcess> =>
      retryWhenPortTaken(
        async (fresh) => {
          const current = fresh
            ? { ...layout, ports: { ...layout.ports, [port]: await freePort() } }
            : layout;
          return launch(new ManagedProcess(specFor(current), reaper));
        },
        { onRetry: onRetry(port) },
      );
    // The rest only talk to the apiserver, so they start together.
    await Promise.all([
      options.controllerManager
        ? launchOnFreshPort('controllerManager', (l) => controllerManagerSpec(l, extra.controllerManager))
        : undefined,
      options.scheduler
        ? launchOnFreshPort('scheduler', (l) => schedulerSpec(l, extra.scheduler))
        : undefined,
      options.kwok ? launchOnFreshPort('kwok', (l) => kwokSpec(l, extra.kwok)) : undefined,
    ]);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    if (options.joinable) {
      const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
      for (const manifest of nodeBootstrapRbac(apiServerKubeletClientName))
        await objects.create(manifest as KubernetesObject);
    }
    if (options.nodes) {
      const began = performance.now();
      await createReadyKwokNodes(kubeConfig, options.nodes);
      progress(`${options.nodes} kwok nodes Ready in ${((performance.now() - began) / 1000).toFixed(1)}s`);
    }

    return {
      kubeconfigPath,
      kubeConfig,
      server,
      dir,
      binDir,
      processes: () => started.map((p) => ({ name: p.spec.name, pid: p.pid })),
      caFiles: { certificate: layout.files.caCert, key: layout.files.caKey },
      kubeconfigForUser: (user, groups = []) => kubeconfigForUser(pki.ca, server, user, groups),
      stopApiServer: async () => {
        await apiServer?.stop();
      },
      startApiServer: async () => {
        if (apiServer?.isRunning) return;
        const index = started.indexOf(apiServer as ManagedProcess);
        apiServer = apiServerProcess();
        started.splice(index, 1, apiServer);
        await apiServer.start();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function createReadyKwokNodes(
  kubeConfig: KubeConfig,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const names = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  await Promise.all(
    names.map((name) =>
      core.createNode({
        body: {
          metadata: {
            name,
            annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value },
            labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
          },
        },
      }),
    ),
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const nodes = await core.listNode({ labelSelector: 'type=kwok' });
    const ready = nodes.items.filter((node) =>
      node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length >= count) return;
    await sleep(200);
  }
  throw new Error(`kwok did not make ${count} nodes Ready within ${timeoutMs} ms`);
}
