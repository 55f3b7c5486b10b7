/**
 * Real hosts for a cluster that runs already (a local test control plane, or
 * a kube-on-kube biz-cluster): the node software catalog served from the
 * rig's gateway, and hosts that join the way a provisioner makes them join —
 * a node-agent, a short-lived bootstrap token and the cluster's CA, nothing
 * else. The cluster must be reachable from the hosts at `server`.
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { builtinTypes } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import { createBootstrapToken, machineBootstrap } from '@kok/pki';
import { serveArtifacts } from './artifact-server.ts';
import { ensureHostBinaries, hostVersions } from './host-binaries.ts';
import type { HostVersions } from './host-binaries.ts';
import type { HostRig } from './host-rig.ts';
import { buildNodeSoftware, NODE_PATHS } from './node-software.ts';
import { nodeRouteSource } from './pod-network.ts';
import type { NodeSoftware } from './node-software.ts';
import type { RealHost } from './real-host.ts';

export interface HostFleetOptions {
  readonly rig: HostRig;
  /** Creates each host's bootstrap token Secret in kube-system. */
  readonly client: KubeClient;
  /** The apiserver URL as the hosts dial it (an address on the rig's gateway, in the serving certificate). */
  readonly server: string;
  /** PEM of the CA the apiserver's serving certificate chains to. */
  readonly certificateAuthorityPem: string;
  /** Lifetime of each host's bootstrap token. Default 15 min. */
  readonly bootstrapTokenTtlSeconds?: number;
  /** How often the hosts' pod routes are brought in line with the Nodes. Default 1 s. */
  readonly podRoutePeriodMs?: number;
  /** See NodeSoftwareOptions.kubeProxyAliases. */
  readonly kubeProxyAliases?: Readonly<Record<string, string>>;
}

export interface HostFleet {
  readonly software: NodeSoftware;
  readonly versions: HostVersions;
  /** The address the next host will have: a Machine's spec.address. */
  nextAddress(): string;
  /**
   * Boots host `name` as `kubectl kok machine bootstrap` tells a provisioner
   * to: a fresh bootstrap token in kube-system, the printed files (a bootstrap
   * kubeconfig, the CA) on the host, and the printed node-agent command, which asks with
   * that token for a certificate of its own (system:node-agent:<name>; the
   * node-operator approves it) and keeps it at AGENT_KUBECONFIG.
   */
  addHost(name: string): Promise<RealHost>;
  /** Removes the host from the machine (everything of it, as if powered off and wiped). */
  removeHost(name: string): Promise<void>;
  /** Stops serving the catalog (the rig's owner destroys the rig). */
  close(): Promise<void>;
}

export async function startHostFleet(options: HostFleetOptions): Promise<HostFleet> {
  const { rig, client } = options;
  const binaries = ensureHostBinaries();
  const versions = hostVersions();
  const artifactsDir = join(rig.dir, 'artifacts');
  mkdirSync(artifactsDir, { recursive: true });
  const server = await serveArtifacts(artifactsDir, rig.gateway);
  const software = buildNodeSoftware({
    dir: artifactsDir,
    urlOf: server.urlOf,
    binaries,
    kubeletVersions: versions.kubelet,
    containerdVersions: versions.containerd,
    nodeProblemDetectorVersion: versions.nodeProblemDetector,
    kubeProxyVersions: versions.kubelet,
    ...(options.kubeProxyAliases ? { kubeProxyAliases: options.kubeProxyAliases } : {}),
    coreDnsVersions: versions.coreDns,
    apiServer: options.server,
  });
  const routes = routePodNetworks(rig, client, options.podRoutePeriodMs ?? 1_000);
  return {
    software,
    versions,
    nextAddress: () => rig.nextAddress(),
    addHost: async (name) => {
      const token = createBootstrapToken({
        ttlSeconds: options.bootstrapTokenTtlSeconds ?? 900,
        description: `kok host ${name}`,
      });
      await client.create(builtinTypes.secret, token.secret as V1Secret);
      // Exactly what `kubectl kok machine bootstrap` prints for this Machine and token: the rig is its provisioner.
      const bootstrap = machineBootstrap({
        machine: name,
        token: token.token,
        expiresAt: token.expiresAt,
        server: options.server,
        clusterName: 'kok',
        certificateAuthorityPem: options.certificateAuthorityPem,
      });
      return rig.startHost(name, {
        files: [
          ...bootstrap.files,
          // The host's own problem log exists from the start, as a system log would.
          { path: NODE_PATHS.problemLog, mode: 0o644, content: '' },
        ],
        agentCommand: bootstrap.agentCommand,
      });
    },
    removeHost: async (name) => {
      const problems = await rig.removeHost(name);
      if (problems.length) throw new Error(`host ${name} left things behind:\n${problems.join('\n')}`);
    },
    close: async () => {
      await routes.stop();
      await server.close();
    },
  };
}

/**
 * Keeps every host's pod routes in line with the Nodes, as a route controller does: kube-controller-manager
 * gives a Node its pod CIDR only after it registers, and Nodes come and go. A poll, level-based: each
 * pass lists the Nodes and fixes every host's routes, so a missed change is fixed on the next one.
 */
function routePodNetworks(rig: HostRig, client: KubeClient, periodMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let lastProblem = '';
  const pass = async () => {
    const nodes = (await client.list(builtinTypes.node)).items.map(nodeRouteSource);
    await rig.network.routePodNetworks(nodes);
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await pass();
        lastProblem = '';
      } catch (error) {
        const problem = (error as Error).message;
        if (problem !== lastProblem) console.warn(`[host-rig] pod routes: ${problem}`);
        lastProblem = problem;
      }
      await sleep(periodMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
