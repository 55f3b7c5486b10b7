/**
 * The machine's own routes into a rig's pod and Service networks, for a control plane that runs
 * on the machine rather than on the rig's hosts: its apiserver calls webhooks by their Service's
 * ClusterIP and proxies to pod addresses, as a control plane does on a flat data-centre network
 * that routes the pod CIDRs to their nodes. Each route leaves through the rig's bridge, so it goes
 * with the bridge; the rig's hosts carry the rest (kube-proxy on the first host translates a
 * ClusterIP and masquerades the machine's address, so replies come back through it).
 */
import type { NodeRouteSource, PodRoute } from './pod-network.ts';
import { desiredPodRoutes, POD_ROUTE_PROTOCOL } from './pod-network.ts';
import { system, systemBestEffort } from './system-command.ts';

/**
 * Routes from the machine (the rig's gateway) to every rig host's pod CIDRs via that host, and to
 * `serviceCidr` via the first rig host by name that has a pod CIDR (a Node whose kube-proxy runs).
 * Pure.
 */
export function machineRoutesIntoRig(
  hostAddresses: ReadonlySet<string>,
  nodes: readonly NodeRouteSource[],
  serviceCidr: string,
): PodRoute[] {
  // The machine is none of the hosts: it routes to all of them.
  const podRoutes = desiredPodRoutes('', hostAddresses, nodes);
  const first = [...nodes]
    .sort((a, b) => a.name.localeCompare(b.name))
    .find((node) => node.address && hostAddresses.has(node.address) && node.podCIDRs.length > 0);
  return first?.address ? [...podRoutes, { destination: serviceCidr, via: first.address }] : podRoutes;
}

/** Adds (or moves) each route in the machine's namespace, through `bridge`, tagged as the rig's. */
export async function addMachineRoutes(bridge: string, routes: readonly PodRoute[]): Promise<void> {
  for (const route of routes)
    await system('ip', [
      'route',
      'replace',
      route.destination,
      'via',
      route.via,
      'dev',
      bridge,
      'proto',
      POD_ROUTE_PROTOCOL,
    ]);
}

/** Removes them again; those already gone (with their bridge) are no problem. */
export async function removeMachineRoutes(bridge: string, routes: readonly PodRoute[]): Promise<void> {
  for (const route of routes)
    await systemBestEffort('ip', [
      'route',
      'del',
      route.destination,
      'via',
      route.via,
      'dev',
      bridge,
      'proto',
      POD_ROUTE_PROTOCOL,
    ]);
}
