/**
 * A rig whose process died (a test runner SIGKILLed, a crashed demo) cannot
 * tear itself down. Each rig registers itself under /run/kok-rigs; the next
 * rig created on the machine sweeps every registered rig whose owner is gone:
 * its processes (everything in its cgroups), namespaces, links, cgroups and
 * directory.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostCgroups } from './host-cgroups.ts';
import { rigBridge } from './rig-network.ts';
import { systemBestEffort } from './system-command.ts';

const REGISTRY = '/run/kok-rigs';

export interface RigRegistration {
  readonly subnet: number;
  readonly pid: number;
  readonly dir: string;
  readonly cgroupParent: string;
}

export function registerRig(rig: RigRegistration): void {
  mkdirSync(REGISTRY, { recursive: true });
  writeFileSync(join(REGISTRY, `${rig.subnet}.json`), JSON.stringify(rig));
}

export function unregisterRig(subnet: number): void {
  rmSync(join(REGISTRY, `${subnet}.json`), { force: true });
}

/**
 * Whether `name` (a process's command line or cgroup, a mount, a namespace or link name) is the rig's:
 * its namespaces and links carry its subnet, its cgroups and files sit under its cgroup parent and directory. Pure.
 */
export function rigOwns(rig: Omit<RigRegistration, 'pid'>, name: string): boolean {
  // Marks that end in the subnet (the bridge, the cgroup parent) must end there: rig 7 must not claim rig 70's.
  const whole = (mark: string) => new RegExp(`${escapeRegExp(mark)}(?![0-9A-Za-z])`).test(name);
  if (whole(rigBridge(rig.subnet)) || whole(rig.cgroupParent)) return true;
  return [`kok-${rig.subnet}-`, `kokv${rig.subnet}h`, `kokp${rig.subnet}h`, rig.dir].some((mark) =>
    name.includes(mark),
  );
}

/** The rigs process `pid` runs now, as registered: what a process that owns rigs leaves to look for once it stops. */
export function rigsOwnedBy(pid: number): RigRegistration[] {
  if (!existsSync(REGISTRY)) return [];
  return readdirSync(REGISTRY)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      try {
        return [JSON.parse(readFileSync(join(REGISTRY, file), 'utf8')) as RigRegistration];
      } catch {
        return [];
      }
    })
    .filter((rig) => rig.pid === pid);
}

/** Tears down every registered rig whose owner process is gone; returns their subnets. */
export async function sweepStaleRigs(log: (message: string) => void = () => undefined): Promise<number[]> {
  if (!existsSync(REGISTRY)) return [];
  const swept: number[] = [];
  for (const file of readdirSync(REGISTRY).filter((f) => f.endsWith('.json'))) {
    let rig: RigRegistration;
    try {
      rig = JSON.parse(readFileSync(join(REGISTRY, file), 'utf8')) as RigRegistration;
    } catch {
      rmSync(join(REGISTRY, file), { force: true });
      continue;
    }
    if (isAlive(rig.pid)) continue;
    log(`sweeping rig ${rig.subnet} left by process ${rig.pid} (${rig.dir})`);
    // A host that was starting when its rig died may not have joined its cgroups yet: its launcher still
    // names the rig's directory or cgroups on its command line.
    killCommandLinesMentioning([rig.dir, rig.cgroupParent]);
    const [parent, name] = splitPath(rig.cgroupParent);
    const cgroupsGone = await new HostCgroups(name, { parent }).destroy().then(
      () => true,
      (error: unknown) => {
        log(`rig ${rig.subnet}: ${String(error)}; the next rig tries again`);
        return false;
      },
    );
    for (const namespace of readdirSync('/run/netns').filter((n) => n.startsWith(`kok-${rig.subnet}-`)))
      await systemBestEffort('ip', ['netns', 'del', namespace]);
    await systemBestEffort('ip', ['link', 'del', rigBridge(rig.subnet)]);
    rmSync(rig.dir, { recursive: true, force: true });
    if (!cgroupsGone) continue;
    unregisterRig(rig.subnet);
    swept.push(rig.subnet);
  }
  return swept;
}

function killCommandLinesMentioning(marks: readonly string[]): void {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (marks.some((mark) => commandLine.includes(mark))) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function splitPath(path: string): [string, string] {
  const index = path.lastIndexOf('/');
  return [path.slice(0, index) || '/', path.slice(index + 1)];
}
