/**
 * A host's cgroup root in every cgroup v1 hierarchy: `<parent>/<name>` under
 * each mount of /sys/fs/cgroup, where the parent is the rig's own memory
 * cgroup (so the hosts stay inside whatever accounts for the rig). Its
 * kubelet runs with that path as `cgroupRoot`, so two kubelets on one machine
 * never share `kubepods`; every process of the host (agent, runtime, kubelet,
 * shims, containers) lives below it, which is how teardown finds them all.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CGROUP_MOUNTS = '/sys/fs/cgroup';

/** Mount points of the cgroup v1 hierarchies (one per controller set), from /proc/self/mountinfo. */
export function cgroupV1Hierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    const fsType = after?.split(' ')[0];
    const mountPoint = before?.split(' ')[4];
    if (fsType === 'cgroup' && mountPoint?.startsWith(`${CGROUP_MOUNTS}/`)) points.push(mountPoint);
  }
  return [...new Set(points)].sort();
}

/** The calling process's cgroup in the v1 memory hierarchy ("/" when there is none). */
export function memoryCgroupOf(procSelfCgroup = readFileSync('/proc/self/cgroup', 'utf8')): string {
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers?.split(',').includes('memory') && path) return path;
  }
  return '/';
}

export class HostCgroups {
  /** `<parent>/<name>`: the same path in every hierarchy, the kubelet's cgroupRoot. */
  readonly root: string;
  readonly #hierarchies: readonly string[];
  /** Directories this instance created above the root (the parent path in hierarchies that lacked it). */
  readonly #createdAbove: string[] = [];

  constructor(name: string, options: { parent?: string; hierarchies?: readonly string[] } = {}) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new Error(`cgroup name "${name}" must be a lowercase DNS label`);
    const hierarchies = options.hierarchies ?? cgroupV1Hierarchies();
    if (hierarchies.length === 0) throw new Error('no cgroup v1 hierarchy is mounted under /sys/fs/cgroup');
    this.root = posix.join(options.parent ?? memoryCgroupOf(), name);
    this.#hierarchies = hierarchies;
  }

  /** Creates the root and `<root>/<child>` everywhere; cpuset needs its cpus and mems filled before a task may join. */
  create(child: string): void {
    const segments = posix.join(this.root, child).split('/').filter(Boolean);
    const rootDepth = this.root.split('/').filter(Boolean).length;
    for (const hierarchy of this.#hierarchies) {
      let dir = hierarchy;
      segments.forEach((segment, index) => {
        dir = join(dir, segment);
        if (existsSync(dir)) return;
        mkdirSync(dir);
        if (index < rootDepth - 1) this.#createdAbove.unshift(dir);
        for (const file of ['cpuset.cpus', 'cpuset.mems']) {
          const parent = join(dir, '..', file);
          // Read and written, not copied: cgroupfs files report size 0, so a file copy copies nothing.
          if (existsSync(parent) && readFileSync(join(dir, file), 'utf8').trim() === '')
            writeFileSync(join(dir, file), readFileSync(parent, 'utf8'));
        }
      });
    }
  }

  /** The `cgroup.procs` files a process writes its pid to, to join `<root>/<child>` in every hierarchy. */
  procsFiles(child: string): string[] {
    return this.#hierarchies.map((hierarchy) => join(hierarchy, this.root, child, 'cgroup.procs'));
  }

  /** Every pid anywhere below the root, in any hierarchy. */
  pids(): number[] {
    const pids = new Set<number>();
    for (const hierarchy of this.#hierarchies) {
      for (const dir of walk(join(hierarchy, this.root))) {
        for (const pid of readLines(join(dir, 'cgroup.procs'))) pids.add(Number(pid));
      }
    }
    return [...pids].filter((pid) => pid > 0);
  }

  /** SIGKILLs everything below the root until nothing is left (a dying parent may fork meanwhile), then removes the cgroups. */
  async destroy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = this.pids();
      if (pids.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(
          `cgroup ${this.root}: processes ${pids.join(', ')} survived SIGKILL for ${timeoutMs} ms`,
        );
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await sleep(100);
    }
    for (const hierarchy of this.#hierarchies) {
      // Deepest first: a cgroup with children cannot be removed. An exited task may linger a moment.
      for (const dir of walk(join(hierarchy, this.root)).reverse()) await removeCgroup(dir, deadline);
    }
    // Parents made for this host go too, unless another host still uses them.
    for (const dir of this.#createdAbove.splice(0)) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (another host below it) or gone: either way not ours to force.
      }
    }
  }
}

async function removeCgroup(dir: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** `dir` and every cgroup below it, parents before children. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const dirs = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) dirs.push(...walk(join(dir, entry.name)));
  return dirs;
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Removes `path` (an empty cgroup) from every hierarchy where it exists; what is not empty stays. */
export function removeEmptyCgroup(path: string, hierarchies = cgroupV1Hierarchies()): void {
  for (const hierarchy of hierarchies) {
    try {
      rmdirSync(join(hierarchy, path));
    } catch {
      // Missing, or still in use by a host: not ours to force.
    }
  }
}
