/** Command-line flags of the node agent. Pure. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface AgentFlags {
  machine: string;
  kubeconfig: string | undefined;
  bootstrapKubeconfig: string | undefined;
  certificateSeconds: number;
  root: string;
  /** The host's own path of --root: what $(KOK_ROOT) expands to. */
  rootOnHost: string;
  /** In a container (hostPID): host commands run in PID 1's mount, IPC and cgroup namespaces and its cgroups, and the agent takes the host over. */
  enterHostNamespaces: boolean;
  serviceManager: 'systemd' | 'supervisor';
  keepVersions: number;
  heartbeatSeconds: number;
  resyncSeconds: number;
  httpHost: string;
  httpPort: number;
  /** Who may read /metrics: `kubernetes` (a bearer token the apiserver authenticates and allows to get /metrics) or `none` (anyone). */
  metricsAuth: 'kubernetes' | 'none';
  logLevel: string;
  rebootCommand: string;
}

export const USAGE = `usage: node src/main.ts --machine <name> [options]

  --machine <name>            Machine (and Node) this agent converges. Default: $NODE_NAME, else the host name.
  --kubeconfig <path>         Default: $KUBECONFIG, else in-cluster config. With --bootstrap-kubeconfig: where the
                              agent keeps the certificate it was issued (written 0600, renewed in place).
  --bootstrap-kubeconfig <p>  A kubeconfig with a bootstrap token: the agent asks for its own client certificate
                              (system:node-agent:<machine>, approved by the node-operator) whenever --kubeconfig
                              holds no valid one for this Machine, and renews it before it expires.
  --certificate-seconds <n>   Life of the certificate asked for, 600 to 604800 (a week). Default 86400.
  --root <dir>                Every host path lives under it. Default /.
  --root-on-host <dir>        The host's own path of --root (an agent in a container sees the host's root
                              elsewhere): what $(KOK_ROOT) expands to. Default: --root.
  --enter-host-namespaces     The agent runs in a container with the host's PID namespace (the node-operator
                              chart's DaemonSet): services, image imports, checks, tar and systemctl run in the
                              mount, IPC and cgroup namespaces and cgroups of the host's PID 1 (nsenter), so what it starts is the
                              host's and outlives its pod. It takes the host over from an agent running on the
                              host, which stands by until this one is gone.
  --service-manager <kind>    systemd or supervisor (built-in, for tests and demos). Default systemd.
  --keep-versions <n>         Versions of each component kept on disk, current included. Default 2.
  --heartbeat-seconds <n>     Status is written at least this often; after a failed pass, at its retry. Default 300.
  --resync-seconds <n>        Host re-observed (drift, dead services) this often; after a failed pass, at its retry. Default 60.
  --http-host <addr>          Address of /healthz and /metrics. Default 127.0.0.1.
  --http-port <port>          Default 10290; 0 picks a free port.
  --metrics-auth <mode>       Who may read /metrics: "kubernetes", a bearer token the apiserver authenticates
                              (TokenReview) and allows to get /metrics (SubjectAccessReview), decisions cached
                              30 s; "none", anyone who reaches the address. /healthz stays open. Default kubernetes.
  --log-level <level>         pino level. Default info.
  --reboot-command <cmd>      Run (sh -c) when spec.rebootGeneration asks for a reboot. "simulate" (tests, demos)
                              stops every service, changes the boot ID kept under --root and starts them again.
                              Default "systemctl reboot".
`;

/** `--help` or `-h` anywhere: print the usage and exit 0, whatever else is on the command line. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function parseFlags(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  host: string,
): AgentFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      machine: { type: 'string' },
      kubeconfig: { type: 'string' },
      'bootstrap-kubeconfig': { type: 'string' },
      'certificate-seconds': { type: 'string', default: '86400' },
      root: { type: 'string', default: '/' },
      'root-on-host': { type: 'string' },
      'enter-host-namespaces': { type: 'boolean', default: false },
      'service-manager': { type: 'string', default: 'systemd' },
      'keep-versions': { type: 'string', default: '2' },
      'heartbeat-seconds': { type: 'string', default: '300' },
      'resync-seconds': { type: 'string', default: '60' },
      'http-host': { type: 'string', default: '127.0.0.1' },
      'http-port': { type: 'string', default: '10290' },
      'metrics-auth': { type: 'string', default: 'kubernetes' },
      'log-level': { type: 'string', default: 'info' },
      'reboot-command': { type: 'string', default: 'systemctl reboot' },
    },
    strict: true,
  });
  const serviceManager = values['service-manager'];
  if (serviceManager !== 'systemd' && serviceManager !== 'supervisor')
    throw new Error(`--service-manager must be systemd or supervisor, not "${serviceManager}"`);
  const metricsAuth = values['metrics-auth'];
  if (metricsAuth !== 'kubernetes' && metricsAuth !== 'none')
    throw new Error(`--metrics-auth must be kubernetes or none, not "${metricsAuth}"`);
  if (values['reboot-command'].trim() === '') throw new Error('--reboot-command must not be empty');
  if (!(values['root-on-host'] ?? '/').startsWith('/'))
    throw new Error(`--root-on-host must be an absolute path, not "${values['root-on-host']}"`);
  const number = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min}, not "${value}"`);
    return n;
  };
  const kubeconfig = values.kubeconfig ?? env['KUBECONFIG'];
  const bootstrapKubeconfig = values['bootstrap-kubeconfig'];
  if (bootstrapKubeconfig !== undefined && kubeconfig === undefined)
    throw new Error(
      '--bootstrap-kubeconfig needs --kubeconfig: the path where the issued certificate is kept',
    );
  const certificateSeconds = number('certificate-seconds', values['certificate-seconds'], 600);
  if (certificateSeconds > 604_800)
    throw new Error(`--certificate-seconds must be at most 604800 (a week), not ${certificateSeconds}`);
  return {
    machine: values.machine ?? env['NODE_NAME'] ?? host,
    kubeconfig,
    bootstrapKubeconfig,
    certificateSeconds,
    // A relative --root is where the agent was started; the host names it by its absolute path.
    root: resolve(values.root),
    rootOnHost: values['root-on-host'] ?? resolve(values.root),
    enterHostNamespaces: values['enter-host-namespaces'],
    serviceManager,
    keepVersions: number('keep-versions', values['keep-versions'], 1),
    heartbeatSeconds: number('heartbeat-seconds', values['heartbeat-seconds'], 1),
    resyncSeconds: number('resync-seconds', values['resync-seconds'], 1),
    httpHost: values['http-host'],
    httpPort: number('http-port', values['http-port'], 0),
    metricsAuth,
    logLevel: values['log-level'],
    rebootCommand: values['reboot-command'],
  };
}
