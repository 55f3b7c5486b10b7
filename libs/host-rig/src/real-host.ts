/**
 * One real host of the rig: a network namespace with its own address, a
 * root directory (the node-agent's --root), a cgroup root, and the
 * node-agent — the only process the rig starts. The agent runs in the host's
 * network namespace and a mount namespace of its own (a slave of the
 * machine's: mounts come in, none go out), with private tmpfs over the few paths a kubelet and containerd
 * hard-code (/run/netns, /var/log/containers, /var/lib/kubelet), so nothing a
 * host mounts or names is seen by the machine or by another host.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_KUBECONFIG_PATH } from '@kok/pki';
import type { HostCgroups } from './host-cgroups.ts';
import type { HostNetwork } from './rig-network.ts';
import { systemBestEffort } from './system-command.ts';

/** Paths a kubelet or containerd uses whatever its flags say; each host gets a private tmpfs there. */
export const HARD_CODED_HOST_PATHS = ['/run/netns', '/var/log/containers', '/var/lib/kubelet'] as const;

/**
 * What a provisioner puts on a host before its first boot, in the shape
 * `kubectl kok machine bootstrap` prints it (`machineBootstrap()` of
 * `@kok/pki`): files with their modes, then the command line that starts the
 * node-agent. The rig is the host's provisioner: it writes the files under the
 * host's root and runs that command line.
 */
export interface HostProvisioning {
  /** Files at host paths (written under the host's root), e.g. the bootstrap kubeconfig and the cluster CA. */
  readonly files?: readonly { readonly path: string; readonly mode: number; readonly content: string }[];
  /**
   * The agent's command line as printed, `node-agent --machine <name> …`.
   * Its absolute paths are host paths, so the rig takes them under the
   * host's root. Default: `node-agent --machine <name>`.
   */
  readonly agentCommand?: string;
}

/**
 * The printed agent command as the rig runs it on a host whose `/` is
 * `root`: the arguments after `node-agent`, each absolute path taken under
 * the root. It must name the host's own Machine. Pure.
 */
export function agentArguments(commandLine: string, machine: string, root: string): string[] {
  const [program, ...args] = commandLine.trim().split(/\s+/);
  if (program !== 'node-agent')
    throw new Error(`the agent command must start with node-agent: ${commandLine}`);
  const flag = args.indexOf('--machine');
  const named = flag < 0 ? undefined : args[flag + 1];
  if (named !== machine)
    throw new Error(`the agent command is for Machine ${named ?? '(none)'}, not ${machine}: ${commandLine}`);
  return args.map((arg) => (arg.startsWith('/') ? join(root, arg) : arg));
}

export interface RealHostOptions {
  readonly name: string;
  readonly index: number;
  readonly root: string;
  readonly network: HostNetwork;
  readonly cgroups: HostCgroups;
  /** The node-agent command; the host appends the provisioned command's arguments, --root and its other flags. */
  readonly agentCommand: readonly string[];
  readonly agentArgs?: readonly string[];
  readonly logFile: string;
}

const AGENT_CGROUP = 'node-agent';
/** Host path where the node-agent keeps the certificate it was issued (its --kubeconfig, as printed). */
export const AGENT_KUBECONFIG = AGENT_KUBECONFIG_PATH;

export class RealHost {
  readonly name: string;
  readonly index: number;
  readonly root: string;
  readonly network: HostNetwork;
  readonly cgroups: HostCgroups;
  readonly logFile: string;
  readonly #options: RealHostOptions;
  #agent: ChildProcess | undefined;

  constructor(options: RealHostOptions) {
    this.name = options.name;
    this.index = options.index;
    this.root = options.root;
    this.network = options.network;
    this.cgroups = options.cgroups;
    this.logFile = options.logFile;
    this.#options = options;
  }

  get address(): string {
    return this.network.address;
  }

  /** A path on this host (under its root). */
  path(hostPath: string): string {
    return join(this.root, hostPath);
  }

  /** Writes what the provisioner hands over, then starts the node-agent. */
  start(provisioning: HostProvisioning): void {
    if (this.#agent) throw new Error(`host ${this.name} runs already`);
    for (const file of provisioning.files ?? []) {
      mkdirSync(dirname(this.path(file.path)), { recursive: true });
      writeFileSync(this.path(file.path), file.content, { mode: file.mode });
      chmodSync(this.path(file.path), file.mode); // as given, whatever the umask
    }
    for (const path of HARD_CODED_HOST_PATHS) mkdirSync(path, { recursive: true });
    this.cgroups.create(AGENT_CGROUP);
    const agent = [
      ...this.#options.agentCommand,
      ...agentArguments(
        provisioning.agentCommand ?? `node-agent --machine ${this.name}`,
        this.name,
        this.root,
      ),
      ...['--root', this.root],
      // The built-in supervisor: no systemd runs here. A reboot would hit the machine: refuse it.
      ...['--service-manager', 'supervisor', '--reboot-command', '/bin/false'],
      ...(this.#options.agentArgs ?? []),
    ];
    const privateMounts = HARD_CODED_HOST_PATHS.map((p) => `mount -t tmpfs -o mode=0755 kok-host ${p}`).join(
      ' && ',
    );
    // Joins the host's cgroups first (everything it starts inherits them), then its network namespace and a
    // mount namespace of its own (not `ip netns exec`: that remounts /sys, hiding the cgroup hierarchies).
    const script = [
      'set -e',
      `for f in ${this.cgroups.procsFiles(AGENT_CGROUP).join(' ')}; do echo $$ > "$f"; done`,
      `exec nsenter --net=/run/netns/${this.network.namespace} unshare --mount --propagation slave \\`,
      `  sh -c '${privateMounts} && exec "$@"' sh "$@"`,
    ].join('\n');
    mkdirSync(dirname(this.logFile), { recursive: true });
    const log = openSync(this.logFile, 'a');
    try {
      this.#agent = spawn('sh', ['-c', script, 'sh', ...agent], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
  }

  /** The last lines of the agent's log, for a failure message. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the agent (SIGTERM, then SIGKILL after `graceMs`); the software it started keeps running. */
  async stopAgent(graceMs = 5_000): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    if (!agent || agent.exitCode !== null || agent.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
    agent.kill('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
    agent.kill('SIGKILL');
    await exited;
  }

  /**
   * Everything of the host goes: every process in its cgroups (its mount
   * namespace dies with the last of them), anything still mounted under its
   * root, its cgroups and its root directory. The network is the rig's.
   */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    await this.stopAgent(2_000);
    try {
      await this.cgroups.destroy();
    } catch (error) {
      problems.push((error as Error).message);
    }
    for (const mount of mountsUnder(this.root).reverse()) {
      const failed = await systemBestEffort('umount', ['-l', mount]);
      if (failed) problems.push(failed);
    }
    rmSync(this.root, { recursive: true, force: true });
    return problems;
  }
}

/** Mount points at or under `dir` in the machine's mount namespace, outermost first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(prefix)))
    .map((point) => point.replace(/\\040/g, ' '));
}
