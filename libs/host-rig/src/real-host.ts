/**
 * One real host of the rig: a network namespace with its own address, a
 * root directory, a cgroup root, a PID namespace whose init reaps orphans as
 * a host's does, and the node-agent — the only program the rig starts. The
 * host has a mount namespace of its own (a slave of the machine's: mounts
 * come in, none go out) with its own /proc, its root directory bound at
 * ROOT_IN_HOST (the agent's --root: every host names its root the same way, as
 * real hosts all call theirs /), and private tmpfs over the few paths a
 * kubelet and containerd hard-code (/run/netns, /var/log/containers,
 * /var/lib/kubelet), so nothing a host mounts or names is seen by the machine
 * or by another host. A pod with hostPID sees the host's processes, and its
 * PID 1 is the host's init, as on a real host.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_KUBECONFIG_PATH } from '@kok/pki';
import type { HostCgroups } from './host-cgroups.ts';
import type { HostNetwork } from './rig-network.ts';
import { systemBestEffort } from './system-command.ts';

/** Paths a kubelet or containerd uses whatever its flags say; each host gets a private tmpfs there. */
export const HARD_CODED_HOST_PATHS = ['/run/netns', '/var/log/containers', '/var/lib/kubelet'] as const;

/**
 * Where every host sees its own root directory (bound there in its mount namespace): the agent's --root,
 * what `$(KOK_ROOT)` expands to on a host, and the node-operator chart's `agent.hostRoot` for these hosts.
 */
export const ROOT_IN_HOST = '/run/kok-host';

/** The host's init: PID 1 of its PID namespace, reaping whatever is orphaned there. Signals other than SIGKILL do not reach it. */
const HOST_INIT = ['perl', '-e', '$0 = "kok-host-init"; for (;;) { sleep 1 if waitpid(-1, 0) <= 0 }'];

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

  /** Writes what the provisioner hands over, boots the host (its namespaces and init), then starts the node-agent. */
  async start(provisioning: HostProvisioning): Promise<void> {
    if (this.#agent) throw new Error(`host ${this.name} runs already`);
    for (const file of provisioning.files ?? []) {
      mkdirSync(dirname(this.path(file.path)), { recursive: true });
      writeFileSync(this.path(file.path), file.content, { mode: file.mode });
      chmodSync(this.path(file.path), file.mode); // as given, whatever the umask
    }
    for (const path of [this.root, ...HARD_CODED_HOST_PATHS, ROOT_IN_HOST])
      mkdirSync(path, { recursive: true });
    this.cgroups.create(AGENT_CGROUP);
    mkdirSync(dirname(this.logFile), { recursive: true });
    const initPid = await this.#boot();
    const agent = [
      ...this.#options.agentCommand,
      ...agentArguments(
        provisioning.agentCommand ?? `node-agent --machine ${this.name}`,
        this.name,
        ROOT_IN_HOST,
      ),
      ...['--root', ROOT_IN_HOST],
      // The built-in supervisor: no systemd runs here. A reboot would hit the machine: refuse it.
      ...['--service-manager', 'supervisor', '--reboot-command', '/bin/false'],
      ...(this.#options.agentArgs ?? []),
    ];
    // Joins the agent's cgroups first (everything it starts inherits them), then the host's namespaces.
    const script = [
      'set -e',
      `for f in ${this.cgroups.procsFiles(AGENT_CGROUP).join(' ')}; do echo $$ > "$f"; done`,
      `exec nsenter --target ${initPid} --pid --mount --net -- "$@"`,
    ].join('\n');
    const log = openSync(this.logFile, 'a');
    try {
      this.#agent = spawn('sh', ['-c', script, 'sh', ...agent], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
  }

  /**
   * Starts the host's init in its cgroup root and namespaces (not `ip netns exec`: that remounts /sys, hiding
   * the cgroup hierarchies) once its mounts are made; resolves to its pid as this machine numbers it.
   */
  async #boot(): Promise<number> {
    const mounts = [
      ...HARD_CODED_HOST_PATHS.map((p) => `mount -t tmpfs -o mode=0755 kok-host ${p}`),
      // Shared, as systemd makes a real host's /: a pod's HostToContainer mount of it needs that.
      `mount --bind '${this.root}' ${ROOT_IN_HOST}`,
      `mount --make-rshared ${ROOT_IN_HOST}`,
    ].join(' && ');
    const script = [
      'set -e',
      `for f in ${this.cgroups.procsFiles('').join(' ')}; do echo $$ > "$f"; done`,
      `exec nsenter --net=/run/netns/${this.network.namespace} \\`,
      `  unshare --mount --propagation slave --pid --fork --mount-proc \\`,
      `  sh -c '${mounts} && exec "$@"' sh "$@"`,
    ].join('\n');
    const log = openSync(this.logFile, 'a');
    let boot: ChildProcess;
    try {
      boot = spawn('sh', ['-c', script, 'sh', ...HOST_INIT], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    // unshare forks the init and waits for it: the init is its only child, ready once it runs perl.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (boot.exitCode !== null || boot.signalCode !== null)
        throw new Error(`host ${this.name} did not boot: ${this.logTail(10)}`);
      const [init] = await childrenOf(boot.pid as number);
      if (init !== undefined && (await commandOf(init)) === 'kok-host-init') return init;
      await sleep(20);
    }
    throw new Error(`host ${this.name}: its init did not start within 10 s: ${this.logTail(10)}`);
  }

  /**
   * The pid this machine gives the process the host numbers `hostPid` (what its containerd and kubelet
   * report), or undefined when no process of the host has it.
   */
  machinePid(hostPid: number): number | undefined {
    return this.cgroups.pids().find((pid) => {
      try {
        const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1] ?? '';
        // Outermost first: this machine's pid, then the host's.
        return Number(line.trim().split(/\s+/)[1]) === hostPid;
      } catch {
        return false; // exited meanwhile
      }
    });
  }

  /** The last lines of the agent's log, for a failure message. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Stops the agent (SIGTERM, then SIGKILL after `graceMs`); the software it started keeps running. The
   * signal goes to the agent itself: nsenter, which forked it into the host's PID namespace, passes none on.
   */
  async stopAgent(graceMs = 5_000): Promise<void> {
    const entered = this.#agent;
    this.#agent = undefined;
    if (!entered || entered.exitCode !== null || entered.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => entered.once('exit', () => resolve()));
    const signal = async (name: NodeJS.Signals) => {
      for (const pid of await childrenOf(entered.pid as number)) {
        try {
          process.kill(pid, name);
        } catch {
          // Gone already.
        }
      }
    };
    await signal('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
    await signal('SIGKILL');
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

/** The children of `pid`, as this machine numbers them. */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function commandOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0];
  } catch {
    return undefined;
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
