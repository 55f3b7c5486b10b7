/**
 * What a rig could leave on the machine, listed: processes, mounts, network
 * namespaces, links, cgroups and iptables rules. Two snapshots, before and
 * after, show what a teardown failed to undo.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupV1Hierarchies } from './host-cgroups.ts';
import { system } from './system-command.ts';

export interface MachineSnapshot {
  /** `<pid> <cgroup path> <command line>` of every process. */
  readonly processes: readonly string[];
  readonly mounts: readonly string[];
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
  /** Every cgroup directory, as `<hierarchy>:<path>`. */
  readonly cgroups: readonly string[];
  /** `iptables -S` of the filter, nat and mangle tables of the machine's namespace. */
  readonly iptables: readonly string[];
}

export async function snapshotMachine(): Promise<MachineSnapshot> {
  return {
    processes: processes(),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter(Boolean),
    namespaces: existsSync('/run/netns') ? readdirSync('/run/netns') : [],
    links: readdirSync('/sys/class/net'),
    cgroups: cgroupV1Hierarchies().flatMap((hierarchy) =>
      cgroupDirs(hierarchy, '/').map((path) => `${hierarchy}:${path}`),
    ),
    iptables: await iptablesRules(),
  };
}

/** What `after` has that `before` had not, per kind (kinds with nothing new are left out). */
export function leftovers(
  before: MachineSnapshot,
  after: MachineSnapshot,
  relevant: (entry: string) => boolean = () => true,
): Partial<Record<keyof MachineSnapshot, string[]>> {
  const result: Partial<Record<keyof MachineSnapshot, string[]>> = {};
  for (const kind of Object.keys(after) as (keyof MachineSnapshot)[]) {
    const known = new Set(before[kind]);
    // iptables rules are the machine's alone: any new one counts, whoever added it.
    const added = after[kind].filter(
      (entry) => !known.has(entry) && (kind === 'iptables' || relevant(entry)),
    );
    if (added.length) result[kind] = added;
  }
  return result;
}

function processes(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const commandLine = readFileSync(join('/proc', pid, 'cmdline'), 'utf8')
        .replaceAll('\0', ' ')
        .trim();
      const cgroup = readFileSync(join('/proc', pid, 'cgroup'), 'utf8')
        .split('\n')
        .find((line) => line.split(':')[1]?.split(',').includes('memory'))
        ?.split(':')[2];
      lines.push(`${pid} ${cgroup ?? '-'} ${commandLine}`);
    } catch {
      // Exited while listed.
    }
  }
  return lines;
}

function cgroupDirs(hierarchy: string, path: string): string[] {
  const dirs = [path];
  for (const entry of readdirSync(join(hierarchy, path), { withFileTypes: true }))
    if (entry.isDirectory()) dirs.push(...cgroupDirs(hierarchy, join(path, entry.name)));
  return dirs;
}

async function iptablesRules(): Promise<string[]> {
  const rules: string[] = [];
  for (const table of ['filter', 'nat', 'mangle']) {
    try {
      rules.push(
        ...(await system('iptables', ['-t', table, '-S']))
          .split('\n')
          .filter(Boolean)
          .map((r) => `${table}: ${r}`),
      );
    } catch {
      // No iptables (or no such table): nothing anyone could have left there.
    }
  }
  return rules;
}
