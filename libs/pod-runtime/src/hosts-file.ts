/**
 * The /etc/hosts the runtime's processes see: Service DNS names resolve to the
 * loopback addresses of the local pods behind them. The binaries are static Go
 * programs, whose resolver reads /etc/hosts before asking DNS.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';

/** One name → address line. */
export interface HostEntry {
  readonly ip: string;
  readonly names: readonly string[];
}

/** The names of `name.namespace` the way cluster DNS answers them. */
function dnsNames(name: string, namespace: string, clusterDomain: string): string[] {
  return [`${name}.${namespace}.svc.${clusterDomain}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function selects(service: V1Service, pod: V1Pod): boolean {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  if (pod.metadata?.namespace !== service.metadata?.namespace) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/**
 * Entries for `services` given the local pods and their addresses (`ipOf`
 * returns undefined for a pod without one yet). A Service name points at one
 * of its pods, a Ready one first (there is no proxy to balance); a headless
 * Service also names each pod `<hostname>.<service>` as StatefulSets expect,
 * Ready or not when the Service publishes not-ready addresses.
 */
export function hostEntries(
  services: readonly V1Service[],
  pods: readonly V1Pod[],
  ipOf: (pod: V1Pod) => string | undefined,
  clusterDomain = 'cluster.local',
): HostEntry[] {
  const entries: HostEntry[] = [];
  const live = pods.filter((pod) => !pod.metadata?.deletionTimestamp && ipOf(pod));
  for (const service of services) {
    const name = service.metadata?.name;
    const namespace = service.metadata?.namespace;
    if (!name || !namespace) continue;
    const behind = live.filter((pod) => selects(service, pod));
    const chosen = behind.find(isReady) ?? behind[0];
    const chosenIP = chosen ? ipOf(chosen) : undefined;
    if (chosenIP) entries.push({ ip: chosenIP, names: dnsNames(name, namespace, clusterDomain) });
    if (service.spec?.clusterIP !== 'None') continue;
    for (const pod of behind) {
      const hostname = pod.spec?.hostname;
      const ip = ipOf(pod);
      if (!hostname || pod.spec?.subdomain !== name || !ip) continue;
      if (!service.spec.publishNotReadyAddresses && !isReady(pod)) continue;
      entries.push({ ip, names: dnsNames(`${hostname}.${name}`, namespace, clusterDomain) });
    }
  }
  return entries;
}

/** The file: localhost first, then the entries in a stable order (rewrites happen only on change). */
export function renderHostsFile(entries: readonly HostEntry[]): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost'];
  const sorted = [...entries].sort((a, b) => (a.names[0] ?? '').localeCompare(b.names[0] ?? ''));
  for (const entry of sorted) lines.push(`${entry.ip} ${entry.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
