/**
 * N real hosts on one machine (see real-host.ts), on one rig network, with
 * their cgroups under one parent. The rig plays the provisioner: it writes
 * what a host needs before its first boot and starts its node-agent; the
 * agent installs and runs everything else from the Machine's Components.
 * `destroy()` undoes all of it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { HostCgroups, memoryCgroupOf, removeEmptyCgroup } from './host-cgroups.ts';
import type { HostProvisioning } from './real-host.ts';
import { RealHost } from './real-host.ts';
import { RigNetwork } from './rig-network.ts';
import { registerRig, rigOwns, sweepStaleRigs, unregisterRig } from './stale-rigs.ts';

export interface HostRigOptions {
  /** The node-agent command, e.g. `await nodeAgentCommand()` from `@kok/node-agent/bundle.ts` (the agent as it ships). */
  readonly agentCommand: readonly string[];
  /** Extra node-agent flags for every host. Default: none. */
  readonly agentArgs?: readonly string[];
  /** Parent of the rig's directory (host roots, logs, artifacts). Default: the OS temp dir. */
  readonly baseDir?: string;
  /** The cluster's pod network, masqueraded when pods leave it (see pod-network.ts). Default 10.244.0.0/16. */
  readonly podCidr?: string;
}

export class HostRig {
  /** Holds `hosts/<name>` (each host's root), `logs/` and whatever its user puts there. */
  readonly dir: string;
  readonly network: RigNetwork;
  /** Host `<name>` has the cgroup root `<cgroupParent>/<name>` in every hierarchy. */
  readonly cgroupParent: string;
  readonly #options: HostRigOptions;
  readonly #hosts = new Map<string, RealHost>();

  private constructor(options: HostRigOptions, dir: string, network: RigNetwork) {
    this.#options = options;
    this.dir = dir;
    this.network = network;
    this.cgroupParent = posix.join(memoryCgroupOf(), `kok-rig${network.subnet}`);
  }

  /** Sweeps what dead rigs left on the machine first, then creates the network. */
  static async create(options: HostRigOptions): Promise<HostRig> {
    await sweepStaleRigs((message) => console.warn(`[host-rig] ${message}`));
    const dir = mkdtempSync(join(options.baseDir ?? tmpdir(), 'kok-rig-'));
    mkdirSync(join(dir, 'logs'));
    try {
      const rig = new HostRig(
        options,
        dir,
        await RigNetwork.create(options.podCidr ? { podCidr: options.podCidr } : {}),
      );
      registerRig({ subnet: rig.network.subnet, pid: process.pid, dir, cgroupParent: rig.cgroupParent });
      return rig;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The address hosts reach the machine at (listen here for them). */
  get gateway(): string {
    return this.network.gateway;
  }

  get hosts(): RealHost[] {
    return [...this.#hosts.values()];
  }

  host(name: string): RealHost {
    const host = this.#hosts.get(name);
    if (!host) throw new Error(`the rig has no host ${name}`);
    return host;
  }

  /** The address the next host will get, so a Machine can name it before the host boots. */
  nextAddress(): string {
    return this.network.addressOf(this.#freeIndex());
  }

  /** Creates host `name` (network namespace, root, cgroups) and boots its node-agent. */
  async startHost(name: string, provisioning: HostProvisioning): Promise<RealHost> {
    if (this.#hosts.has(name)) throw new Error(`the rig has a host ${name} already`);
    const index = this.#freeIndex();
    const network = await this.network.addHost(index);
    const host = new RealHost({
      name,
      index,
      root: join(this.dir, 'hosts', name),
      network,
      cgroups: new HostCgroups(name, { parent: this.cgroupParent }),
      agentCommand: this.#options.agentCommand,
      agentArgs: this.#options.agentArgs ?? [],
      logFile: join(this.dir, 'logs', `${name}.agent.log`),
    });
    this.#hosts.set(name, host);
    await host.start(provisioning);
    return host;
  }

  /** Powers a host off for good: every process, mount, cgroup, its network namespace and its root. */
  async removeHost(name: string): Promise<string[]> {
    const host = this.#hosts.get(name);
    if (!host) return [];
    this.#hosts.delete(name);
    const problems = await host.destroy();
    problems.push(...(await this.network.removeHost(host.index)));
    return problems;
  }

  /** Removes every host, then the network and the rig's directory; throws if anything could not be undone. */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    for (const name of [...this.#hosts.keys()]) problems.push(...(await this.removeHost(name)));
    problems.push(...(await this.network.destroy()));
    removeEmptyCgroup(this.cgroupParent);
    rmSync(this.dir, { recursive: true, force: true });
    if (problems.length === 0) unregisterRig(this.network.subnet);
    if (problems.length) throw new Error(`the host rig left things behind:\n${problems.join('\n')}`);
  }

  /** Whether a name (netns, link, mount point, cgroup path, command line) belongs to this rig. */
  owns(name: string): boolean {
    return rigOwns({ subnet: this.network.subnet, dir: this.dir, cgroupParent: this.cgroupParent }, name);
  }

  #freeIndex(): number {
    const used = new Set([...this.#hosts.values()].map((h) => h.index));
    let index = 0;
    while (used.has(index)) index++;
    return index;
  }
}
