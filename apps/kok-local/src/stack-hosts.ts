/**
 * The hosts of the local stack's NodePool, either kind behind one shape:
 * real hosts (host rig: network namespaces, the real kubelet and containerd
 * installed by the agents, joining by TLS bootstrap) where the machine allows
 * it, else stand-ins (node-agents converging Node.js stand-ins, kwok Nodes).
 * Either way every agent runs with its own certificate.
 */
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { NodePoolSpec, NodePoolTemplate } from '@kok/api';
import type { HostRig } from '@kok/host-rig';
import {
  createComponents,
  createMachine,
  createNodePool,
  hostVersions,
  startRealHostPool,
} from '@kok/host-rig';
import type { KubeClient } from '@kok/reconcile';
import { startKwok } from '@kok/testing';
import type { AgentHost } from '../../node-agent/src/fixtures/agent-hosts.ts';
import { startAgentHost, startCatalog, stopAgentHost } from '../../node-agent/src/fixtures/agent-hosts.ts';
import { createBootstrapKubeconfig } from '../../node-agent/src/fixtures/bootstrap-kubeconfig.ts';

/** Stand-in catalog: kubelet versions oldest first, one containerd. */
export const STAND_IN_KUBELET_VERSIONS = ['v1.36.1', 'v1.36.2', 'v1.36.3'] as const;
export const STAND_IN_CONTAINERD_VERSION = '1.7.21';

export interface StackHosts {
  readonly kind: 'real' | 'stand-in';
  /** Where their roots and agent logs are, for people. */
  readonly where: string;
  /** Kubelet versions the catalog holds, oldest first; the pool starts at the first. */
  readonly kubeletVersions: readonly string[];
  /** The pool's template at a kubelet version of the catalog. */
  template(kubelet: string): NodePoolTemplate;
}

export interface StackHostsContext {
  readonly biz: KubeClient;
  readonly bizConfig: KubeConfig;
  readonly bizKubeconfigPath: string;
  readonly stateDir: string;
  readonly pool: string;
  readonly machines: readonly string[];
  /** The Cluster's version: the kube-proxy image its hosts import (the operator runs that version). */
  readonly clusterVersion: string;
  readonly onStop: (what: string, stop: () => Promise<unknown>) => void;
}

const rollout: NodePoolSpec['rollout'] = {
  strategy: { rollingUpdate: { maxUnavailable: 1 } },
  waves: [{ name: 'canary', count: 1, pauseAfter: true }],
};

/** Stand-ins: kwok keeps their Nodes alive; the kubelet stand-in uses the admin kubeconfig. */
export async function startStandInHosts(ctx: StackHostsContext): Promise<StackHosts> {
  const kwok = await startKwok({
    kubeconfigPath: ctx.bizKubeconfigPath,
    dir: join(ctx.stateDir, 'biz-kwok'),
  });
  ctx.onStop('kwok of the biz-cluster', () => kwok.stop());
  const catalog = await startCatalog(
    STAND_IN_KUBELET_VERSIONS.map((version) => ({ version })),
    [STAND_IN_CONTAINERD_VERSION],
  );
  ctx.onStop('the artifact server', () => catalog.close());
  await createComponents(ctx.biz, { kubelet: catalog.kubelet, containerd: catalog.containerd });
  const template = (kubelet: string): NodePoolTemplate => ({
    components: [
      { name: 'kubelet', version: kubelet },
      { name: 'containerd', version: STAND_IN_CONTAINERD_VERSION },
    ],
  });
  const first = template(STAND_IN_KUBELET_VERSIONS[0]);
  await createNodePool(ctx.biz, ctx.pool, first, { rollout });
  await Promise.all(
    ctx.machines.map((name) => createMachine(ctx.biz, { name, pool: ctx.pool, template: first })),
  );
  const hosts: AgentHost[] = [];
  ctx.onStop('the agents and services of the hosts', () =>
    Promise.all(hosts.map((host) => stopAgentHost(host))),
  );
  const credentials = {
    kubeletKubeconfigPath: ctx.bizKubeconfigPath,
    bootstrapKubeconfig: await createBootstrapKubeconfig(ctx.biz, ctx.bizConfig, {
      ttlSeconds: 3600,
      description: 'local stack hosts',
    }),
  };
  for (const name of ctx.machines)
    hosts.push(await startAgentHost(name, join(ctx.stateDir, 'hosts'), credentials));
  return {
    kind: 'stand-in',
    where: `stand-in hosts under ${join(ctx.stateDir, 'hosts')}`,
    kubeletVersions: STAND_IN_KUBELET_VERSIONS,
    template,
  };
}

/**
 * Real hosts on `rig`, which reach the biz apiserver at `server` (an address
 * on the rig's gateway that the apiserver's certificate names).
 */
export async function startRealHosts(
  ctx: StackHostsContext,
  rig: HostRig,
  server: string,
): Promise<StackHosts> {
  const ca = ctx.bizConfig.getCurrentCluster()?.caData;
  if (!ca) throw new Error('the biz-cluster kubeconfig has no CA');
  const pool = await startRealHostPool({
    rig,
    client: ctx.biz,
    server,
    certificateAuthorityPem: Buffer.from(ca, 'base64').toString('utf8'),
    pool: ctx.pool,
    machines: ctx.machines,
    clusterVersion: ctx.clusterVersion,
    rollout,
    kubeProxyAliases: nextPatchAliases(hostVersions().kubelet),
  });
  ctx.onStop('the host catalog server', () => pool.fleet.close());
  return {
    kind: 'real',
    where: `real hosts (network namespaces kok-${rig.network.subnet}-<i>) with roots and agent logs under ${join(rig.dir, 'hosts')}`,
    kubeletVersions: pool.kubeletVersions,
    template: pool.template,
  };
}

/**
 * `v1.36.4` → `v1.36.3` for each built version: the stack's pod runtime runs the build it has for a Cluster
 * upgraded to the next patch, so its hosts carry kube-proxy under that tag too (the same build, re-tagged).
 */
export function nextPatchAliases(built: readonly string[]): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const version of built) {
    const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
    if (!match) continue;
    const next = `v${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
    if (!built.includes(next)) aliases[next] = version;
  }
  return aliases;
}
