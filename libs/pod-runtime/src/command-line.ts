/**
 * Turning a container's command and args into a local command line: expand
 * $(VAR) like the kubelet, move mounted paths under the pod's own directory,
 * and bind to the pod's loopback address instead of every interface.
 */

/**
 * Expands `$(NAME)` from `env` the way the kubelet does: `$$(NAME)` is an
 * escaped literal `$(NAME)`, and a reference to an unknown name stays as is.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] as string) : match;
  });
}

/** A container path and the local directory standing in for it. */
export interface PathMapping {
  readonly mountPath: string;
  readonly localPath: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Rewrites every absolute path under a mount path to the local directory.
 * A path counts only where one can start (start of the arg, after `=`, `,`
 * or `:`) and only on a path-segment boundary, so `/etc/etcd` does not
 * capture `/etc/etcd-backup` and URLs are left alone. The longest mount path
 * wins, as nested mounts shadow their parents.
 */
export function remapPaths(arg: string, mappings: readonly PathMapping[]): string {
  const sorted = [...mappings].sort((a, b) => b.mountPath.length - a.mountPath.length);
  if (sorted.length === 0) return arg;
  const alternatives = sorted.map((m) => escapeRegExp(m.mountPath.replace(/\/+$/, ''))).join('|');
  const pattern = new RegExp(`(^|[=,:])(${alternatives})(?=/|$|,)`, 'g');
  return arg.replace(pattern, (_match, prefix: string, path: string) => {
    const mapping = sorted.find((m) => m.mountPath.replace(/\/+$/, '') === path);
    return `${prefix}${mapping?.localPath ?? path}`;
  });
}

/** The flag each binary serves its secure port on, when it is not given: default 0.0.0.0 in all of them. */
const bindFlag: Readonly<Record<string, string>> = {
  'kube-apiserver': '--bind-address',
  'kube-controller-manager': '--bind-address',
  'kube-scheduler': '--bind-address',
};

/**
 * Makes a process listen on `ip` only: wildcard addresses in args (the
 * `https://0.0.0.0:2379` of etcd's listen URLs, `--bind-address=0.0.0.0`)
 * become `ip`, and the binaries whose default is the wildcard get their bind
 * flag added. Without this, two pods' processes would fight over one port.
 */
export function bindToAddress(binary: string, args: readonly string[], ip: string): string[] {
  const rewritten = args.map((arg) => arg.replace(/(^|[=/,])(0\.0\.0\.0|\[::\]|::)(?=:|$|,)/g, `$1${ip}`));
  const flag = Object.hasOwn(bindFlag, binary) ? bindFlag[binary] : undefined;
  if (flag && !rewritten.some((arg) => arg === flag || arg.startsWith(`${flag}=`))) {
    rewritten.push(`${flag}=${ip}`);
  }
  return rewritten;
}

export interface LocalCommandInputs {
  /** The image's name (`kube-apiserver`, `node-operator`...). */
  readonly binary: string;
  /** The container's `command`; its first element is the binary in the image, replaced by the local one. */
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly mappings: readonly PathMapping[];
  readonly podIP: string;
}

/**
 * The argument vector (after the binary) to run locally. Expansion comes
 * first: a `$(VAR)` may hold a path or an address that then gets rewritten.
 */
export function localArgs(inputs: LocalCommandInputs): string[] {
  const vector = [...inputs.command.slice(1), ...inputs.args]
    .map((arg) => expandEnv(arg, inputs.env))
    .map((arg) => remapPaths(arg, inputs.mappings));
  return bindToAddress(inputs.binary, vector, inputs.podIP);
}
