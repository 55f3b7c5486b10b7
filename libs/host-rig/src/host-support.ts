/**
 * Whether this machine can run real hosts: root, network namespaces, cgroup
 * v1 with the controllers a kubelet needs, runc, the CNI plugins and a
 * static busybox. Checked up front so a caller can say plainly why it falls
 * back to stand-ins (or, under CI, fail).
 */
import { existsSync } from 'node:fs';
import { cgroupV1Hierarchies } from './host-cgroups.ts';

const REQUIRED_FILES = {
  '/usr/sbin/runc': 'runc (Debian package runc)',
  '/usr/lib/cni/bridge': 'the CNI bridge plugin (containernetworking-plugins)',
  '/usr/lib/cni/host-local': 'the CNI host-local plugin (containernetworking-plugins)',
  '/usr/lib/cni/loopback': 'the CNI loopback plugin (containernetworking-plugins)',
  '/usr/lib/cni/portmap': 'the CNI portmap plugin, for hostPorts (containernetworking-plugins)',
  '/bin/busybox': 'a static busybox for test images (busybox-static)',
  '/usr/bin/ip': 'ip (iproute2)',
  '/usr/bin/perl': "perl, each host's init (perl-base)",
} as const;

const REQUIRED_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer'] as const;

export interface HostSupport {
  readonly supported: boolean;
  /** Why not, one line each. */
  readonly problems: readonly string[];
}

export function realHostSupport(): HostSupport {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`real hosts need Linux, this is ${process.platform}`);
  if (process.getuid?.() !== 0) problems.push('real hosts need root (network namespaces, cgroups, mounts)');
  const hierarchies = cgroupV1Hierarchies();
  const controllers = new Set(hierarchies.flatMap((h) => h.slice(h.lastIndexOf('/') + 1).split(',')));
  const missing = REQUIRED_CONTROLLERS.filter((c) => !controllers.has(c));
  if (hierarchies.length === 0)
    problems.push('no cgroup v1 hierarchy under /sys/fs/cgroup (cgroup v2 hosts are not supported yet)');
  else if (missing.length) problems.push(`cgroup v1 lacks the ${missing.join(', ')} controller(s)`);
  if (!existsSync('/proc/self/ns/net')) problems.push('the kernel has no network namespaces');
  for (const [path, what] of Object.entries(REQUIRED_FILES))
    if (!existsSync(path)) problems.push(`${path} is missing: ${what}`);
  return { supported: problems.length === 0, problems };
}
