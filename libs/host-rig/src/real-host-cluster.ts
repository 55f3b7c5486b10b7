/**
 * A cluster with real hosts, for the e2e suite, benchmarks and the demo: a
 * local control plane that accepts real kubelets, listening on a host rig's
 * gateway; the node software catalog served from there; and hosts that join
 * the way a provisioner would make them join — a node-agent with its own
 * identity, a short-lived bootstrap token and the cluster's CA, nothing else.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { createBootstrapToken, renderKubeconfig } from '@kok/pki';
import { startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { serveArtifacts } from './artifact-server.ts';
import type { ArtifactServer } from './artifact-server.ts';
import { ensureHostBinaries, hostVersions } from './host-binaries.ts';
import type { HostVersions } from './host-binaries.ts';
import { HostRig } from './host-rig.ts';
import { buildNodeSoftware, NODE_PATHS } from './node-software.ts';
import type { NodeSoftware } from './node-software.ts';
import type { RealHost } from './real-host.ts';

export interface RealHostClusterOptions {
  /** The node-agent command (see HostRigOptions.agentCommand). */
  readonly agentCommand: readonly string[];
  readonly agentArgs?: readonly string[];
  /** Runs once the control plane is up, before any host boots (CRDs, the agents' RBAC and admission policy …). */
  readonly setup?: (client: KubeClient) => Promise<void>;
  /** Lifetime of each host's bootstrap token. Default 15 min. */
  readonly bootstrapTokenTtlSeconds?: number;
  readonly onProgress?: (message: string) => void;
}

export interface RealHostCluster {
  readonly rig: HostRig;
  readonly controlPlane: ControlPlane;
  readonly software: NodeSoftware;
  readonly versions: HostVersions;
  /** The address the next host will have: a Machine's spec.address. */
  nextAddress(): string;
  /**
   * Boots host `name` as a provisioner would: a fresh bootstrap token in
   * kube-system, a bootstrap kubeconfig and the CA on the host, and the
   * node-agent, which asks with that token for a certificate of its own
   * (system:node-agent:<name> in kok:node-agents; the node-operator approves
   * it) and keeps it at AGENT_KUBECONFIG.
   */
  addHost(name: string): Promise<RealHost>;
  /** Removes the host from the machine (everything of it, as if powered off and wiped). */
  removeHost(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startRealHostCluster(options: RealHostClusterOptions): Promise<RealHostCluster> {
  const progress = options.onProgress ?? (() => undefined);
  const binaries = ensureHostBinaries();
  const versions = hostVersions();
  const rig = await HostRig.create({
    agentCommand: options.agentCommand,
    agentArgs: options.agentArgs ?? [],
  });
  let controlPlane: ControlPlane | undefined;
  let server: ArtifactServer | undefined;
  const stop = async () => {
    await rig.destroy().finally(async () => {
      await server?.close();
      await controlPlane?.stop();
    });
  };
  try {
    controlPlane = await startControlPlane({
      controllerManager: true,
      scheduler: true,
      joinable: { address: rig.gateway },
      onProgress: progress,
    });
    const client = new KubeClient(controlPlane.kubeConfig, { fieldManager: 'kok-host-rig' });
    await options.setup?.(client);
    const artifactsDir = join(rig.dir, 'artifacts');
    mkdirSync(artifactsDir, { recursive: true });
    server = await serveArtifacts(artifactsDir, rig.gateway);
    const software = buildNodeSoftware({
      dir: artifactsDir,
      urlOf: (server as ArtifactServer).urlOf,
      binaries,
      kubeletVersions: versions.kubelet,
      containerdVersions: versions.containerd,
      nodeProblemDetectorVersion: versions.nodeProblemDetector,
      apiServer: controlPlane.server,
    });
    const cp = controlPlane;
    const ca = cp.kubeConfig.getCurrentCluster()?.caData;
    if (!ca) throw new Error('the control plane kubeconfig has no CA');
    const caPem = Buffer.from(ca, 'base64').toString('utf8');
    return {
      rig,
      controlPlane: cp,
      software,
      versions,
      nextAddress: () => rig.nextAddress(),
      addHost: async (name) => {
        const token = createBootstrapToken({
          ttlSeconds: options.bootstrapTokenTtlSeconds ?? 900,
          description: `kok host ${name}`,
        });
        await client.create(builtinTypes.secret, token.secret as V1Secret);
        const bootstrap = renderKubeconfig({
          clusterName: 'kok',
          server: cp.server,
          certificateAuthorityPem: caPem,
          userName: `kubelet-bootstrap`,
          credentials: { token: token.token },
        });
        return rig.startHost(name, {
          // The kubelet and the agent bootstrap with the same token, as `kubectl kok machine bootstrap` hands it out.
          bootstrapKubeconfig: NODE_PATHS.bootstrapKubeconfig,
          files: {
            [NODE_PATHS.bootstrapKubeconfig]: bootstrap,
            [NODE_PATHS.caCert]: caPem,
            // The host's own problem log exists from the start, as a system log would.
            [NODE_PATHS.problemLog]: '',
          },
        });
      },
      removeHost: async (name) => {
        const problems = await rig.removeHost(name);
        if (problems.length) throw new Error(`host ${name} left things behind:\n${problems.join('\n')}`);
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
