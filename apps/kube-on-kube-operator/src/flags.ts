/** Command-line flags of the operator (controller-runtime's names). */
import type { EtcdDialMode } from './etcd/member-observation.ts';
import { ETCD_DIAL_MODES } from './etcd/member-observation.ts';
import { parseArgs } from 'node:util';
import type { ImageDigests } from '@kok/api';
import { parseImageDigest } from '@kok/api';
import type { BizDialMode } from './node-api/biz-connection.ts';
import { BIZ_DIAL_MODES } from './node-api/biz-connection.ts';

export interface Flags {
  /** Path of a kubeconfig. Default: $KUBECONFIG, the in-cluster config, then ~/.kube/config. */
  kubeconfig?: string;
  /** Namespace whose Clusters are reconciled. Default: all namespaces. */
  namespace?: string;
  /** host:port of /metrics and the health endpoints; "0" turns them off. Default ":8080". */
  metricsBindAddress: { host: string; port: number } | false;
  /** Who may read /metrics: `kubernetes` (a token allowed by the apiserver to get /metrics) or `none` (anyone). Default kubernetes. */
  metricsAuth: MetricsAuth;
  /** Hold a Lease before reconciling, so only one replica acts. Default false. */
  leaderElect: boolean;
  /** Namespace of the Lease. Default: --namespace, else kube-system. */
  leaderElectionNamespace: string;
  /** A gate open this long without its component Available rolls it back. Default 600 s. */
  progressDeadlineSeconds: number;
  /** Clusters reconciled at once. Default 4. */
  maxConcurrentReconciles: number;
  /** How biz apiservers are reached: status.endpoint, or a Ready apiserver pod's address. Default endpoint. */
  bizApiServerDial: BizDialMode;
  etcdDial: EtcdDialMode;
  /** Where etcd snapshots (spec.etcd.backup) are written; none are taken without it. */
  etcdSnapshotDir?: string;
  /** Validity of leaf certificates and kubeconfigs. Default 365 days. */
  leafCertificateValiditySeconds?: number;
  /** Renew a leaf when less than this remains. Default a third of its validity, at most 30 days. */
  certificateRenewBeforeSeconds?: number;
  /** Control-plane images pinned to a digest (--image-digest, repeated); the others run by tag. */
  imageDigests: ImageDigests;
  /** pino level. Default info. */
  logLevel: string;
  help: boolean;
}

export const USAGE = `Usage: node src/main.ts [flags]

  --kubeconfig <path>                  kubeconfig of the meta-cluster (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace <ns>                     reconcile Clusters of this namespace only (default: all namespaces)
  --metrics-bind-address <host:port>   /metrics, /healthz and /readyz; "0" turns them off (default ":8080")
  --metrics-auth <mode>                who may read /metrics: "kubernetes", a bearer token the apiserver
                                       authenticates (TokenReview) and allows to get /metrics
                                       (SubjectAccessReview); "none", anyone who reaches the address (for
                                       local runs on 127.0.0.1) (default kubernetes)
  --leader-elect                       hold a Lease before reconciling (default false)
  --leader-election-namespace <ns>     namespace of the Lease (default: --namespace, else kube-system)
  --progress-deadline-seconds <n>      roll a component back when its gate stays open this long (default 600)
  --max-concurrent-reconciles <n>      Clusters reconciled at once (default 4)
  --biz-apiserver-dial <mode>          reach biz apiservers at status.endpoint ("endpoint", resolves inside the
                                       meta-cluster) or at a Ready apiserver pod's address ("pod-ip"; needs list
                                       on pods) (default endpoint)
  --etcd-dial <mode>                   reach etcd members at their DNS names ("endpoint", resolve inside the
                                       meta-cluster) or at their pods' addresses ("pod-ip") (default endpoint)
  --etcd-snapshot-dir <path>           write the etcd snapshots of spec.etcd.backup under this directory, as
                                       <namespace>/<cluster>/<cluster>-<UTC time>.db (a volume of the operator's
                                       pod); without it no snapshot is taken (default: none)
  --leaf-certificate-validity <dur>    validity of leaf certificates and kubeconfigs, e.g. 8760h, 90s
                                       (default 8760h: 365 days)
  --certificate-renew-before <dur>     renew a leaf when less than this remains (default: a third of its
                                       validity, at most 720h; capped at half of it)
  --image-digest <image:tag@sha256:…>  run this control-plane image by its digest (repeat per image; npm run
                                       images prints them, the chart's controlPlaneImageDigests passes them);
                                       images without one run by tag. Changing them rolls each Cluster's
                                       control plane, in its gated order (default: none)
  --log-level <level>                  trace, debug, info, warn, error (default info)
  --help                               print this and exit
`;

/** Parses `:8080`, `127.0.0.1:9090` or `[::1]:8080`; "0" means off. */
export function parseBindAddress(value: string): { host: string; port: number } | false {
  if (value === '0') return false;
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new Error(
      `--metrics-bind-address "${value}" is not host:port (e.g. ":8080" or "127.0.0.1:8080"), nor "0" to turn it off`,
    );
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag} "${value}" is not a whole number of at least 1`);
  return n;
}

/** `8760h`, `90s`, `1h30m` in whole seconds, at least one. */
export function parseDurationSeconds(flag: string, value: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  const seconds = match
    ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
    : 0;
  if (!match || seconds < 1)
    throw new Error(`${flag} "${value}" is not a duration of at least 1s, like 8760h, 30m or 90s`);
  return seconds;
}

export const METRICS_AUTH_MODES = ['kubernetes', 'none'] as const;
export type MetricsAuth = (typeof METRICS_AUTH_MODES)[number];

export function parseMetricsAuth(value: string): MetricsAuth {
  const mode = METRICS_AUTH_MODES.find((m) => m === value);
  if (!mode) throw new Error(`--metrics-auth "${value}" is not one of ${METRICS_AUTH_MODES.join(', ')}`);
  return mode;
}

function dialMode<Mode extends string>(flag: string, modes: readonly Mode[], value: string): Mode {
  const mode = modes.find((m) => m === value);
  if (!mode) throw new Error(`--${flag} "${value}" is not one of ${modes.join(', ')}`);
  return mode;
}

function imageDigestsOf(pinned: readonly string[]): ImageDigests {
  const digests = new Map<string, string>();
  for (const value of pinned) {
    let reference: string;
    let digest: string;
    try {
      [reference, digest] = parseImageDigest(value);
    } catch (error) {
      throw new Error(`--image-digest ${(error as Error).message}`, { cause: error });
    }
    const earlier = digests.get(reference);
    if (earlier && earlier !== digest)
      throw new Error(`--image-digest gives ${reference} two digests: ${earlier} and ${digest}`);
    digests.set(reference, digest);
  }
  return digests;
}

export function parseFlags(argv: readonly string[]): Flags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'metrics-auth': { type: 'string', default: 'kubernetes' },
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string' },
      'progress-deadline-seconds': { type: 'string', default: '600' },
      'max-concurrent-reconciles': { type: 'string', default: '4' },
      'biz-apiserver-dial': { type: 'string', default: 'endpoint' },
      'etcd-dial': { type: 'string', default: 'endpoint' },
      'etcd-snapshot-dir': { type: 'string' },
      'leaf-certificate-validity': { type: 'string' },
      'certificate-renew-before': { type: 'string' },
      'image-digest': { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    metricsBindAddress: parseBindAddress(values['metrics-bind-address']),
    metricsAuth: parseMetricsAuth(values['metrics-auth']),
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: values['leader-election-namespace'] ?? values.namespace ?? 'kube-system',
    progressDeadlineSeconds: positiveInteger(
      '--progress-deadline-seconds',
      values['progress-deadline-seconds'],
    ),
    maxConcurrentReconciles: positiveInteger(
      '--max-concurrent-reconciles',
      values['max-concurrent-reconciles'],
    ),
    bizApiServerDial: dialMode('biz-apiserver-dial', BIZ_DIAL_MODES, values['biz-apiserver-dial']),
    etcdDial: dialMode('etcd-dial', ETCD_DIAL_MODES, values['etcd-dial']),
    ...(values['etcd-snapshot-dir'] ? { etcdSnapshotDir: values['etcd-snapshot-dir'] } : {}),
    ...(values['leaf-certificate-validity'] !== undefined
      ? {
          leafCertificateValiditySeconds: parseDurationSeconds(
            '--leaf-certificate-validity',
            values['leaf-certificate-validity'],
          ),
        }
      : {}),
    ...(values['certificate-renew-before'] !== undefined
      ? {
          certificateRenewBeforeSeconds: parseDurationSeconds(
            '--certificate-renew-before',
            values['certificate-renew-before'],
          ),
        }
      : {}),
    imageDigests: imageDigestsOf(values['image-digest']),
    logLevel: values['log-level'],
    help: values.help,
  };
}
