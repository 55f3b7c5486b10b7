/**
 * The rig's network: one bridge in the machine's namespace holding the
 * gateway address, and per host a network namespace joined to it by a veth
 * pair. Everything sits in 10.213.<subnet>.0/24: the gateway is .1, host i
 * is .(10 + i). Nothing is routed off the machine: no forwarding or NAT in
 * the machine's namespace; hosts reach only the gateway (where the apiserver
 * and artifact server listen) and each other. Pod networking between hosts
 * (pod-network.ts) lives in the hosts' namespaces; routes from the machine into
 * it are added only on request (machine-routes.ts).
 */
import { readdirSync } from 'node:fs';
import type { NodeRouteSource } from './pod-network.ts';
import {
  addPodMasquerade,
  applyPodRoutes,
  DEFAULT_POD_CIDR,
  desiredPodRoutes,
  planPodRoutes,
  readPodRoutes,
} from './pod-network.ts';
import { system, systemBestEffort } from './system-command.ts';

export const RIG_ADDRESS_PREFIX = '10.213';
const MAX_HOSTS = 200;

/** The bridge of the rig on `subnet`, in the machine's namespace; it holds the gateway address. */
export const rigBridge = (subnet: number) => `kokbr${subnet}`;

export interface HostNetwork {
  readonly namespace: string;
  readonly address: string;
  /** The veth end in the machine's namespace (its peer is `eth0` in the host's). */
  readonly link: string;
}

export class RigNetwork {
  readonly subnet: number;
  readonly bridge: string;
  readonly gateway: string;
  /** Pods' addresses: what each host masquerades when it leaves this network. */
  readonly podCidr: string;
  readonly #hosts = new Map<number, HostNetwork>();

  private constructor(subnet: number, podCidr: string) {
    this.subnet = subnet;
    this.podCidr = podCidr;
    this.bridge = rigBridge(subnet);
    this.gateway = `${RIG_ADDRESS_PREFIX}.${subnet}.1`;
  }

  /** Creates the bridge on the first subnet no other rig on this machine uses. */
  static async create(options: { podCidr?: string } = {}): Promise<RigNetwork> {
    const taken = new Set(
      readdirSync('/sys/class/net')
        .map((name) => /^kokbr(\d+)$/.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number),
    );
    for (let subnet = 0; subnet < 256; subnet++) {
      if (taken.has(subnet)) continue;
      const network = new RigNetwork(subnet, options.podCidr ?? DEFAULT_POD_CIDR);
      try {
        await system('ip', ['link', 'add', network.bridge, 'type', 'bridge']);
      } catch (error) {
        if (/File exists/.test((error as Error).message)) continue; // another rig took it meanwhile
        throw error;
      }
      try {
        await system('ip', ['addr', 'add', `${network.gateway}/24`, 'dev', network.bridge]);
        await system('ip', ['link', 'set', network.bridge, 'up']);
      } catch (error) {
        await systemBestEffort('ip', ['link', 'del', network.bridge]);
        throw error;
      }
      return network;
    }
    throw new Error('every rig subnet (kokbr0..kokbr255) is in use on this machine');
  }

  addressOf(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS)
      throw new Error(`host index ${index} is outside 0..${MAX_HOSTS - 1}`);
    return `${RIG_ADDRESS_PREFIX}.${this.subnet}.${10 + index}`;
  }

  /**
   * A network namespace for host `index`, its `eth0` on the bridge, a default route via the gateway, and
   * a masquerade for its pods' traffic to outside the pod network.
   */
  async addHost(index: number): Promise<HostNetwork> {
    const address = this.addressOf(index);
    const host: HostNetwork = {
      namespace: `kok-${this.subnet}-${index}`,
      address,
      link: `kokv${this.subnet}h${index}`,
    };
    const temporaryPeer = `kokp${this.subnet}h${index}`;
    this.#hosts.set(index, host);
    const inHost = (...args: string[]) => system('ip', ['-n', host.namespace, ...args]);
    await system('ip', ['netns', 'add', host.namespace]);
    await system('ip', ['link', 'add', host.link, 'type', 'veth', 'peer', 'name', temporaryPeer]);
    await system('ip', ['link', 'set', temporaryPeer, 'netns', host.namespace]);
    await system('ip', ['link', 'set', host.link, 'master', this.bridge, 'up']);
    await inHost('link', 'set', temporaryPeer, 'name', 'eth0');
    await inHost('addr', 'add', `${address}/24`, 'dev', 'eth0');
    await inHost('link', 'set', 'eth0', 'up');
    await inHost('link', 'set', 'lo', 'up');
    await inHost('route', 'add', 'default', 'via', this.gateway);
    await addPodMasquerade(host.namespace, this.podCidr);
    return host;
  }

  /**
   * Makes every host's pod routes match `nodes`: a route to each other Node's pod CIDRs via its address
   * (Nodes at rig hosts' addresses only), none left for a Node gone. A host removed meanwhile is skipped.
   */
  async routePodNetworks(nodes: readonly NodeRouteSource[]): Promise<void> {
    const hosts = [...this.#hosts.values()];
    const addresses = new Set(hosts.map((host) => host.address));
    for (const host of hosts) {
      try {
        const current = await readPodRoutes(host.namespace);
        await applyPodRoutes(
          host.namespace,
          planPodRoutes(current, desiredPodRoutes(host.address, addresses, nodes)),
        );
      } catch (error) {
        if ([...this.#hosts.values()].includes(host)) throw error;
      }
    }
  }

  /** Deleting the namespace deletes its veth end, and with it the peer on the bridge. */
  async removeHost(index: number): Promise<string[]> {
    const host = this.#hosts.get(index);
    if (!host) return [];
    this.#hosts.delete(index);
    const problems = [
      await systemBestEffort('ip', ['netns', 'del', host.namespace]),
      await deleteLinkIfPresent(host.link),
    ];
    return problems.filter((p): p is string => p !== undefined);
  }

  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const index of [...this.#hosts.keys()]) problems.push(...(await this.removeHost(index)));
    const gone = await deleteLinkIfPresent(this.bridge);
    if (gone) problems.push(gone);
    return problems;
  }
}

/** The kernel removes a veth whose peer's namespace went away on its own, possibly while we look. */
async function deleteLinkIfPresent(link: string): Promise<string | undefined> {
  if (!readdirSync('/sys/class/net').includes(link)) return undefined;
  const failed = await systemBestEffort('ip', ['link', 'del', link]);
  return failed && /Cannot find device/.test(failed) ? undefined : failed;
}
