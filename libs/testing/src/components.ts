import { join } from 'node:path';
import { probe } from './http-probe.ts';
import type { ProcessSpec } from './managed-process.ts';
import type { ControlPlanePki } from './control-plane-pki.ts';
import { serviceClusterIpRange } from './control-plane-pki.ts';

/** Where a component's files and ports are. Every path is inside the control plane's temp dir. */
export interface Layout {
  readonly dir: string;
  readonly binDir: string;
  readonly pki: ControlPlanePki;
  readonly files: {
    readonly caCert: string;
    readonly apiServerCert: string;
    readonly apiServerKey: string;
    readonly serviceAccountKey: string;
    readonly serviceAccountPub: string;
    readonly controllerManagerKubeconfig: string;
    readonly schedulerKubeconfig: string;
    readonly kwokKubeconfig: string;
    readonly kwokConfig: string;
    readonly caKey: string;
    readonly kubeletClientCert: string;
    readonly kubeletClientKey: string;
  };
  /** Where the apiserver listens and what it advertises. */
  readonly address: string;
  /** Real kubelets join this control plane (see ControlPlaneOptions.joinable). */
  readonly joinable: boolean;
  readonly ports: {
    readonly etcdClient: number;
    readonly etcdPeer: number;
    readonly apiServer: number;
    readonly controllerManager: number;
    readonly scheduler: number;
    readonly kwok: number;
  };
}

/** Extra flags per component, appended after ours (a later flag wins). */
export interface ExtraArgs {
  readonly etcd?: readonly string[];
  readonly apiServer?: readonly string[];
  readonly controllerManager?: readonly string[];
  readonly scheduler?: readonly string[];
  readonly kwok?: readonly string[];
}

const healthPaths = '/healthz,/readyz,/livez,/metrics';

/** Pod addresses of a joinable control plane: each Node gets a /24 of it. */
export const joinablePodCidr = '10.244.0.0/16';

export function etcdSpec(layout: Layout, extra: readonly string[] = []): ProcessSpec {
  const client = `http://127.0.0.1:${layout.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  return {
    name: 'etcd',
    command: join(layout.binDir, 'etcd'),
    args: [
      '--name=local',
      `--data-dir=${join(layout.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      // A throwaway store: durability buys nothing and fsync costs seconds on a busy disk.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
      ...extra,
    ],
    logFile: join(layout.dir, 'etcd.log'),
    isReady: () => probe(`${client}/health`),
  };
}

export function apiServerSpec(
  layout: Layout,
  options: { serviceAccountAdmission: boolean },
  extra: readonly string[] = [],
): ProcessSpec {
  const { files, ports } = layout;
  return {
    name: 'kube-apiserver',
    command: join(layout.binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      `--bind-address=${layout.address}`,
      // Without a default route the apiserver cannot pick an address to advertise.
      `--advertise-address=${layout.address}`,
      `--secure-port=${ports.apiServer}`,
      `--cert-dir=${join(layout.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${files.apiServerCert}`,
      `--tls-private-key-file=${files.apiServerKey}`,
      `--client-ca-file=${files.caCert}`,
      layout.joinable ? '--authorization-mode=Node,RBAC' : '--authorization-mode=RBAC',
      ...(layout.joinable
        ? [
            // kubeadm's recipe: kubelets authenticate with a bootstrap token, then their own certificate.
            '--enable-bootstrap-token-auth=true',
            '--enable-admission-plugins=NodeRestriction',
            `--kubelet-client-certificate=${files.kubeletClientCert}`,
            `--kubelet-client-key=${files.kubeletClientKey}`,
            // Host names of rig hosts resolve nowhere.
            '--kubelet-preferred-address-types=InternalIP',
          ]
        : []),
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${files.serviceAccountPub}`,
      `--service-account-signing-key-file=${files.serviceAccountKey}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      '--allow-privileged=true',
      '--profiling=false',
      // The ServiceAccount admission plugin waits for the default ServiceAccount,
      // which only kube-controller-manager creates.
      ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      ...extra,
    ],
    logFile: join(layout.dir, 'kube-apiserver.log'),
    isReady: () =>
      probe(`https://${layout.address}:${ports.apiServer}/readyz`, {
        ca: layout.pki.ca.certificatePem,
        cert: layout.pki.admin.certificatePem,
        key: layout.pki.admin.privateKeyPem,
      }),
  };
}

export function controllerManagerSpec(layout: Layout, extra: readonly string[] = []): ProcessSpec {
  const { files, ports } = layout;
  return {
    name: 'kube-controller-manager',
    command: join(layout.binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${files.controllerManagerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(layout.dir, 'controller-manager-certs')}`,
      `--authorization-always-allow-paths=${healthPaths}`,
      `--service-account-private-key-file=${files.serviceAccountKey}`,
      `--root-ca-file=${files.caCert}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      '--leader-elect=false',
      ...(layout.joinable
        ? [
            // Signs kubelet client CSRs, which its csrapproving controller approves for bootstrap tokens.
            `--cluster-signing-cert-file=${files.caCert}`,
            `--cluster-signing-key-file=${files.caKey}`,
            '--controllers=*,bootstrapsigner,tokencleaner',
            // Each Node gets a pod CIDR; the container runtime renders its CNI config from it.
            '--allocate-node-cidrs=true',
            `--cluster-cidr=${joinablePodCidr}`,
            '--node-cidr-mask-size=24',
          ]
        : ['--controllers=*']),
      // Each controller acts as its own ServiceAccount, bound to its bootstrap
      // role; the manager's own identity may do little by itself.
      '--use-service-account-credentials=true',
      ...extra,
    ],
    logFile: join(layout.dir, 'kube-controller-manager.log'),
    isReady: () => probe(`https://127.0.0.1:${ports.controllerManager}/healthz`, { insecure: true }),
  };
}

export function schedulerSpec(layout: Layout, extra: readonly string[] = []): ProcessSpec {
  const { files, ports } = layout;
  return {
    name: 'kube-scheduler',
    command: join(layout.binDir, 'kube-scheduler'),
    args: [
      `--kubeconfig=${files.schedulerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(layout.dir, 'scheduler-certs')}`,
      `--authorization-always-allow-paths=${healthPaths}`,
      '--leader-elect=false',
      ...extra,
    ],
    logFile: join(layout.dir, 'kube-scheduler.log'),
    isReady: () => probe(`https://127.0.0.1:${ports.scheduler}/healthz`, { insecure: true }),
  };
}

export function kwokSpec(layout: Layout, extra: readonly string[] = []): ProcessSpec {
  return kwokProcessSpec({
    binDir: layout.binDir,
    dir: layout.dir,
    kubeconfig: layout.files.kwokKubeconfig,
    config: layout.files.kwokConfig,
    port: layout.ports.kwok,
    extra,
  });
}

/** kwok managing the Nodes annotated for it (and their Pods) in the cluster `kubeconfig` points at. */
export function kwokProcessSpec(options: {
  readonly binDir: string;
  /** Where its log goes. */
  readonly dir: string;
  readonly kubeconfig: string;
  /** The Stages file. */
  readonly config: string;
  /** Its health and metrics port on 127.0.0.1. */
  readonly port: number;
  readonly extra?: readonly string[];
}): ProcessSpec {
  return {
    name: 'kwok',
    command: join(options.binDir, 'kwok'),
    args: [
      `--kubeconfig=${options.kubeconfig}`,
      `--config=${options.config}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.96.0.1',
      `--server-address=127.0.0.1:${options.port}`,
      ...(options.extra ?? []),
    ],
    logFile: join(options.dir, 'kwok.log'),
    isReady: () => probe(`http://127.0.0.1:${options.port}/healthz`),
  };
}
