/**
 * A cluster with real hosts, for the e2e suite and benchmarks: a local
 * control plane that accepts real kubelets, listening on a host rig's
 * gateway, and a host fleet (host-fleet.ts) joining it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KubeClient } from '@kok/reconcile';
import { startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { startHostFleet } from './host-fleet.ts';
import type { HostFleet } from './host-fleet.ts';
import { HostRig } from './host-rig.ts';

export interface RealHostClusterOptions {
  /** The node-agent command (see HostRigOptions.agentCommand). */
  readonly agentCommand: readonly string[];
  readonly agentArgs?: readonly string[];
  /** Runs once the control plane is up, before any host boots (CRDs, the agents' RBAC and admission policy …). */
  readonly setup?: (client: KubeClient, controlPlane: ControlPlane) => Promise<void>;
  /** Lifetime of each host's bootstrap token. Default 15 min. */
  readonly bootstrapTokenTtlSeconds?: number;
  readonly onProgress?: (message: string) => void;
}

export interface RealHostCluster extends Omit<HostFleet, 'close'> {
  readonly rig: HostRig;
  readonly controlPlane: ControlPlane;
  /** The control plane build's helm, against this cluster, with a private home under the rig's directory. */
  helm(...args: string[]): string;
  stop(): Promise<void>;
}

export async function startRealHostCluster(options: RealHostClusterOptions): Promise<RealHostCluster> {
  const rig = await HostRig.create({
    agentCommand: options.agentCommand,
    agentArgs: options.agentArgs ?? [],
  });
  let controlPlane: ControlPlane | undefined;
  let fleet: HostFleet | undefined;
  const stop = async () => {
    await rig.destroy().finally(async () => {
      await fleet?.close();
      await controlPlane?.stop();
    });
  };
  try {
    controlPlane = await startControlPlane({
      controllerManager: true,
      scheduler: true,
      joinable: { address: rig.gateway },
      onProgress: options.onProgress ?? (() => undefined),
    });
    const client = new KubeClient(controlPlane.kubeConfig, { fieldManager: 'kok-host-rig' });
    await options.setup?.(client, controlPlane);
    const ca = controlPlane.kubeConfig.getCurrentCluster()?.caData;
    if (!ca) throw new Error('the control plane kubeconfig has no CA');
    fleet = await startHostFleet({
      rig,
      client,
      server: controlPlane.server,
      certificateAuthorityPem: Buffer.from(ca, 'base64').toString('utf8'),
      ...(options.bootstrapTokenTtlSeconds
        ? { bootstrapTokenTtlSeconds: options.bootstrapTokenTtlSeconds }
        : {}),
    });
    const { close: _close, ...hosts } = fleet;
    const { binDir, kubeconfigPath } = controlPlane;
    return {
      ...hosts,
      rig,
      controlPlane,
      helm: (...args) => runHelm(binDir, kubeconfigPath, rig.dir, args),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

function runHelm(binDir: string, kubeconfigPath: string, rigDir: string, args: readonly string[]): string {
  const home = join(rigDir, 'helm');
  return execFileSync(join(binDir, 'helm'), [...args, '--kubeconfig', kubeconfigPath], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
  });
}
