import { parseArgs } from 'node:util';
import { parseGoDuration } from './shared/go-duration.ts';
import { DEFAULT_REVISION_HISTORY_LIMIT } from './nodepool/revision-history.ts';

export interface Options {
  /** Path of a kubeconfig. Default: $KUBECONFIG, then in-cluster, then ~/.kube/config. */
  kubeconfig?: string;
  /** Run controllers only while holding the Lease. Default false. */
  leaderElect: boolean;
  /** Namespace of the leader Lease and of the revision history (ControllerRevisions). Default kok-system. */
  namespace: string;
  /** host:port of /metrics, /healthz and /readyz. Default 0.0.0.0:8080; port 0 picks a free one. */
  metricsBindAddress: { host: string; port: number };
  /** Who may read /metrics: `kubernetes` (a token allowed by the apiserver to get /metrics) or `none` (anyone). Default kubernetes. */
  metricsAuth: 'kubernetes' | 'none';
  /** Only manage Machines, Nodes and NodePools with these labels (a label selector). Default: all. */
  labelSelector?: string;
  /** Rendered templates kept per pool. Default 10. */
  revisionHistoryLimit: number;
  /** Log level. Default info. */
  logLevel: string;
  /** After a remediation storm, remediation stays stopped this long (ms). Default 5 min. */
  stormCooldownMs: number;
  /** Requests per second and burst of each apiserver client. Defaults 100 and 200. */
  qps: number;
  burst: number;
  /** The most each client's rate rises to while the apiserver refuses nothing. Default 1000. */
  maxQps: number;
}

export const USAGE = `node-operator: keeps Nodes in line with their Machines and rolls NodePools out in waves

usage: node src/main.ts [flags]

  --kubeconfig PATH              kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --leader-elect                 run controllers only while holding the Lease kok-node-operator
  --namespace NS                 namespace of the Lease and revision history (default kok-system)
  --metrics-bind-address H:P     /metrics, /healthz, /readyz (default 0.0.0.0:8080)
  --metrics-auth MODE            who may read /metrics: kubernetes (a bearer token the apiserver authenticates
                                 and allows to get /metrics) or none (anyone; for local runs on 127.0.0.1)
                                 (default kubernetes)
  --health-port P                shorthand for --metrics-bind-address 0.0.0.0:P
  --label-selector SEL           only manage Machines, Nodes and NodePools matching SEL (default all)
  --revision-history-limit N     templates kept per pool (default ${DEFAULT_REVISION_HISTORY_LIMIT})
  --log-level LEVEL              pino level (default info)
  --remediation-storm-cooldown D remediation stays stopped this long after a storm (default 5m)
  --kube-api-qps N               requests per second per apiserver client to start at (default 100)
  --kube-api-burst N             burst per apiserver client (default 200)
  --kube-api-qps-max N           the most each client's rate rises to while requests wait and the
                                 apiserver refuses none; every 429 halves it (default 1000; equal to
                                 --kube-api-qps for a fixed rate)`;

/** Parses the command line; throws an Error whose message says what is wrong and how to write it. */
/** `--help` or `-h` anywhere: print the usage and exit 0, whatever else is on the command line. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function parseCommandLine(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string' },
      'leader-elect': { type: 'boolean', default: false },
      namespace: { type: 'string', default: 'kok-system' },
      'metrics-bind-address': { type: 'string' },
      'health-port': { type: 'string' },
      'metrics-auth': { type: 'string', default: 'kubernetes' },
      'label-selector': { type: 'string' },
      'revision-history-limit': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'remediation-storm-cooldown': { type: 'string', default: '5m' },
      'kube-api-qps': { type: 'string', default: '100' },
      'kube-api-burst': { type: 'string', default: '200' },
      'kube-api-qps-max': { type: 'string', default: '1000' },
    },
    strict: true,
    allowPositionals: false,
  });
  const options: Options = {
    leaderElect: values['leader-elect'] === true,
    namespace: values.namespace ?? 'kok-system',
    metricsBindAddress: parseBindAddress(values['metrics-bind-address'], values['health-port']),
    metricsAuth: metricsAuth(values['metrics-auth'] ?? 'kubernetes'),
    revisionHistoryLimit: positiveInteger(
      values['revision-history-limit'] ?? String(DEFAULT_REVISION_HISTORY_LIMIT),
      '--revision-history-limit',
    ),
    logLevel: values['log-level'] ?? 'info',
    stormCooldownMs: goDuration(values['remediation-storm-cooldown'] ?? '5m', '--remediation-storm-cooldown'),
    qps: positiveInteger(values['kube-api-qps'] ?? '100', '--kube-api-qps'),
    burst: positiveInteger(values['kube-api-burst'] ?? '200', '--kube-api-burst'),
    maxQps: positiveInteger(values['kube-api-qps-max'] ?? '1000', '--kube-api-qps-max'),
  };
  if (options.maxQps < options.qps)
    throw new Error(
      `--kube-api-qps-max (${options.maxQps}) must be at least --kube-api-qps (${options.qps}): it is the ceiling the rate rises to`,
    );
  if (values.kubeconfig) options.kubeconfig = values.kubeconfig;
  if (values['label-selector']) options.labelSelector = values['label-selector'];
  return options;
}

function parseBindAddress(
  address: string | undefined,
  healthPort: string | undefined,
): { host: string; port: number } {
  if (address !== undefined && healthPort !== undefined)
    throw new Error('give either --metrics-bind-address or --health-port, not both');
  if (healthPort !== undefined) return { host: '0.0.0.0', port: port(healthPort, '--health-port') };
  if (address === undefined) return { host: '0.0.0.0', port: 8080 };
  const colon = address.lastIndexOf(':');
  if (colon < 0)
    throw new Error(`--metrics-bind-address must be host:port or :port, got ${JSON.stringify(address)}`);
  return {
    host: address.slice(0, colon) || '0.0.0.0',
    port: port(address.slice(colon + 1), '--metrics-bind-address'),
  };
}

function metricsAuth(text: string): Options['metricsAuth'] {
  if (text === 'kubernetes' || text === 'none') return text;
  throw new Error(`--metrics-auth needs kubernetes or none, got ${JSON.stringify(text)}`);
}

function port(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535)
    throw new Error(`${flag} needs a port from 0 to 65535, got ${JSON.stringify(text)}`);
  return value;
}

function positiveInteger(text: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(text))
    throw new Error(`${flag} needs a whole number of at least 1, got ${JSON.stringify(text)}`);
  return Number(text);
}

function goDuration(text: string, flag: string): number {
  try {
    return parseGoDuration(text);
  } catch {
    throw new Error(`${flag} needs a duration like 90s, 5m or 1h30m, got ${JSON.stringify(text)}`);
  }
}
