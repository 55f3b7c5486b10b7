/**
 * Pod networking between the rig's hosts, what a cloud's route controller or
 * a host-gw CNI does in a data centre: in every host's network namespace a
 * route to each other Node's pod CIDR via that Node's address, and a
 * masquerade for pod traffic leaving the pod network (so pods reach the
 * rig's gateway, which knows no pod routes unless machine-routes.ts adds them). Pod-to-pod traffic between
 * hosts keeps its pod addresses. Everything lives in the host namespaces the
 * rig made and goes with them.
 */
import type { V1Node } from '@kubernetes/client-node';
import { system } from './system-command.ts';

/** The pod network of a joinable test control plane and of kok's Clusters by default. */
export const DEFAULT_POD_CIDR = '10.244.0.0/16';
/** Routes the rig adds carry this protocol number, so it finds (and removes) its own and no other. */
export const POD_ROUTE_PROTOCOL = '213';
/** The comment on the masquerade rule in each host namespace. */
export const POD_MASQUERADE_COMMENT = 'kok-rig: pods to outside the pod network';

/** What a route needs from a Node: its address (the host's) and its pod CIDRs. */
export interface NodeRouteSource {
  readonly name: string;
  readonly address: string | undefined;
  readonly podCIDRs: readonly string[];
}

/** What a Node says of its address (InternalIP) and pod CIDRs. Pure. */
export function nodeRouteSource(node: V1Node): NodeRouteSource {
  return {
    name: node.metadata?.name ?? '',
    address: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    podCIDRs: node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []),
  };
}

export interface PodRoute {
  readonly destination: string;
  readonly via: string;
}

export interface RouteChanges {
  readonly add: readonly PodRoute[];
  readonly remove: readonly PodRoute[];
}

/**
 * The IPv4 pod routes the host at `hostAddress` should have: to each other
 * Node's pod CIDRs via that Node's address, when the address is a rig host
 * (in `hostAddresses`). Its own CIDR is its CNI bridge's. `undefined`: routes
 * for a place that is none of the hosts (the machine), to every host's CIDRs. Pure.
 */
export function desiredPodRoutes(
  hostAddress: string | undefined,
  hostAddresses: ReadonlySet<string>,
  nodes: readonly NodeRouteSource[],
): PodRoute[] {
  const routes = new Map<string, PodRoute>();
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!node.address || node.address === hostAddress || !hostAddresses.has(node.address)) continue;
    for (const cidr of node.podCIDRs)
      if (!cidr.includes(':') && !routes.has(cidr))
        routes.set(cidr, { destination: cidr, via: node.address });
  }
  return [...routes.values()];
}

/** What to add and remove to go from `current` to `desired` (a changed gateway is a remove and an add). Pure. */
export function planPodRoutes(current: readonly PodRoute[], desired: readonly PodRoute[]): RouteChanges {
  const key = (route: PodRoute) => `${route.destination} via ${route.via}`;
  const currentKeys = new Set(current.map(key));
  const desiredKeys = new Set(desired.map(key));
  return {
    add: desired.filter((route) => !currentKeys.has(key(route))),
    remove: current.filter((route) => !desiredKeys.has(key(route))),
  };
}

/** The rig's pod routes in a namespace (`ip -j route show proto 213`). */
export async function readPodRoutes(namespace: string): Promise<PodRoute[]> {
  const output = await system('ip', ['-n', namespace, '-j', 'route', 'show', 'proto', POD_ROUTE_PROTOCOL]);
  return parseRoutes(output);
}

/** Pure: `ip -j route` output → routes with a gateway. */
export function parseRoutes(json: string): PodRoute[] {
  const routes = JSON.parse(json.trim() || '[]') as { dst?: string; gateway?: string }[];
  return routes
    .filter((route): route is { dst: string; gateway: string } => !!route.dst && !!route.gateway)
    .map((route) => ({ destination: route.dst, via: route.gateway }));
}

/** Applies the changes in one namespace: removals first, so a moved CIDR does not collide with itself. */
export async function applyPodRoutes(namespace: string, changes: RouteChanges): Promise<void> {
  for (const route of changes.remove)
    await system('ip', [
      '-n',
      namespace,
      'route',
      'del',
      route.destination,
      'via',
      route.via,
      'proto',
      POD_ROUTE_PROTOCOL,
    ]);
  for (const route of changes.add)
    await system('ip', [
      '-n',
      namespace,
      'route',
      'replace',
      route.destination,
      'via',
      route.via,
      'proto',
      POD_ROUTE_PROTOCOL,
    ]);
}

/** The masquerade rule's arguments for `iptables -t nat -A|-C|-D`. Pure. */
export function masqueradeRule(podCidr: string): string[] {
  return [
    'POSTROUTING',
    '-s',
    podCidr,
    '!',
    '-d',
    podCidr,
    '-m',
    'comment',
    '--comment',
    POD_MASQUERADE_COMMENT,
    '-j',
    'MASQUERADE',
  ];
}

/** Adds the masquerade for pods in the host's namespace (the machine's own iptables, entered there). */
export async function addPodMasquerade(namespace: string, podCidr: string): Promise<void> {
  await system('nsenter', [
    `--net=/run/netns/${namespace}`,
    'iptables',
    '-w',
    '-t',
    'nat',
    '-A',
    ...masqueradeRule(podCidr),
  ]);
}
