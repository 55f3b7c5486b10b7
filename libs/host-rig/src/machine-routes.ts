/**
 * The machine's own routes into a rig's pod and Service networks, on request, for a control plane
 * that runs on the machine rather than on the rig's hosts: its apiserver calls webhooks by their
 * Service's ClusterIP and proxies to pod addresses, as a control plane does on a flat data-centre
 * network that routes the pod CIDRs to their nodes. Each route leaves through the rig's bridge, so
 * it goes with the bridge. The rig's hosts carry the rest: kube-proxy on the host the Service route
 * names translates a ClusterIP, and masquerades the machine's address because its clusterCIDR is
 * set (cluster-addons), so replies from pods on other hosts come back through it.
 *
 * These routes change the machine's routing table: they are added, never replaced, so a route
 * already there (another rig's, or the machine's own) makes the add fail rather than be taken over.
 */
import type { NodeRouteSource, PodRoute } from './pod-network.ts';
import { desiredPodRoutes, POD_ROUTE_PROTOCOL } from './pod-network.ts';
import { system, systemBestEffort } from './system-command.ts';

/**
 * Routes from the machine to every rig host's IPv4 pod CIDRs via that host, and to `serviceCidr`
 * via the first rig host by name that has a pod CIDR (one the cluster has networked; whether its
 * kube-proxy runs is the caller's to know). Pure.
 */
export function machineRoutesIntoRig(
  hostAddresses: ReadonlySet<string>,
  nodes: readonly NodeRouteSource[],
  serviceCidr: string,
): PodRoute[] {
  if (serviceCidr.includes(':'))
    throw new Error(
      `Service CIDR ${serviceCidr}: the rig routes IPv4 only (its hosts have no IPv6 addresses)`,
    );
  const podRoutes = desiredPodRoutes(undefined, hostAddresses, nodes);
  const first = [...nodes]
    .sort((a, b) => a.name.localeCompare(b.name))
    .find((node) => node.address && hostAddresses.has(node.address) && node.podCIDRs.length > 0);
  return first?.address ? [...podRoutes, { destination: serviceCidr, via: first.address }] : podRoutes;
}

/**
 * Adds each route in the machine's namespace, through `bridge`, tagged as the rig's. On a failure
 * the routes added so far are removed again, and the error names the route that clashed.
 */
export async function addMachineRoutes(bridge: string, routes: readonly PodRoute[]): Promise<void> {
  const added: PodRoute[] = [];
  for (const route of routes) {
    try {
      await system('ip', ['route', 'add', ...routeArgs(bridge, route)]);
    } catch (error) {
      await removeMachineRoutes(bridge, added);
      throw new Error(
        `the machine cannot route ${route.destination} via ${route.via} (${bridge}): ${(error as Error).message}; ` +
          `the routes it has there: ip route show match ${route.destination}`,
        { cause: error },
      );
    }
    added.push(route);
  }
}

/** Removes them again; returns what could not be removed (a route gone with its bridge is no problem). */
export async function removeMachineRoutes(bridge: string, routes: readonly PodRoute[]): Promise<string[]> {
  const problems: string[] = [];
  for (const route of routes) {
    const problem = await systemBestEffort('ip', ['route', 'del', ...routeArgs(bridge, route)]);
    if (problem && !/No such process|Cannot find device/.test(problem)) problems.push(problem);
  }
  return problems;
}

const routeArgs = (bridge: string, route: PodRoute) => [
  route.destination,
  'via',
  route.via,
  'dev',
  bridge,
  'proto',
  POD_ROUTE_PROTOCOL,
];
