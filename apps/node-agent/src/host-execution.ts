/**
 * Where the agent's host commands run (services, image imports, checks,
 * beforeRemoval, umount, reboot, systemctl) and what the host calls the
 * agent's root. An agent on the host runs them as they are. An agent in a
 * container (the node-operator chart's DaemonSet: hostPID, the host's root
 * mounted at --root) runs each one in the mount, IPC and cgroup namespaces
 * and the cgroups of the host's PID 1, so a service it starts is the host's:
 * it sees the host's files and mounts, outlives the agent's pod and is not
 * charged to it.
 */
import { isAbsolute, join, normalize, relative } from 'node:path';

export interface HostExecution {
  /** True when commands enter PID 1's namespaces and cgroups. */
  readonly entersHost: boolean;
  /** The host's own path of the agent's root: what `$(KOK_ROOT)` expands to. */
  readonly rootOnHost: string;
  /** The argv that runs `argv` (a command in host paths) on the host. */
  command(argv: readonly string[]): string[];
  /** The host's path of `path`, a path under the agent's root. */
  hostPath(path: string): string;
}

/** The search path of host commands and services started from a container (systemd's default for services). */
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Joins PID 1's cgroups (`/proc/1/cgroup`: `id:controllers:path`), then execs the command. A hierarchy
 * not mounted where cgroupfs is usually mounted (the unified one of a hybrid host) is left alone; joining
 * none at all fails: the command would be charged to the agent's pod and die with it. `$1` is the
 * agent's own PATH: a command that inherited it gets the host's instead, one given its own keeps that.
 */
const JOIN_PID1_CGROUPS = [
  'inherited=$1; shift; joined=',
  'while IFS=: read -r _ controllers path; do',
  '  case "$controllers" in',
  '    "") dir=/sys/fs/cgroup$path ;;',
  '    name=*) dir=/sys/fs/cgroup/${controllers#name=}$path ;;',
  '    *) dir=/sys/fs/cgroup/$controllers$path ;;',
  '  esac',
  '  if [ -e "$dir/cgroup.procs" ]; then echo $$ > "$dir/cgroup.procs" || exit 126; joined=1; fi',
  'done < /proc/1/cgroup',
  `[ -n "$joined" ] || { echo "kok-host: none of PID 1's cgroups (/proc/1/cgroup) is under /sys/fs/cgroup" >&2; exit 126; }`,
  `if [ "$PATH" = "$inherited" ]; then PATH=${HOST_PATH}; fi`,
  'exec "$@"',
].join('\n');

/** How an agent whose host root is `root` runs host commands. */
export function hostExecution(options: {
  readonly root: string;
  /** Default: `root` (the agent runs on the host). */
  readonly rootOnHost?: string;
  readonly enterHostNamespaces?: boolean;
  /** The agent's own PATH, which host commands inherit (in a container: the image's). Default: this process's. */
  readonly agentPath?: string;
}): HostExecution {
  const root = normalize(options.root);
  const rootOnHost = normalize(options.rootOnHost ?? root);
  if (!isAbsolute(rootOnHost)) throw new Error(`the root on the host "${rootOnHost}" must be absolute`);
  const entersHost = options.enterHostNamespaces ?? false;
  const agentPath = options.agentPath ?? process.env['PATH'] ?? '';
  return {
    entersHost,
    rootOnHost,
    command: (argv) =>
      entersHost
        ? [
            'nsenter',
            '--target',
            '1',
            // The pod has the host's PID, network and UTS namespaces already (hostPID, hostNetwork).
            '--mount',
            '--ipc',
            '--cgroup',
            '--',
            '/bin/sh',
            '-c',
            JOIN_PID1_CGROUPS,
            'kok-host',
            agentPath,
            ...argv,
          ]
        : [...argv],
    hostPath: (path) => {
      const rel = relative(root, normalize(path));
      if (rel.startsWith('..') || isAbsolute(rel))
        throw new Error(`${path} is not under the agent's root ${root}`);
      return join(rootOnHost, rel);
    },
  };
}
