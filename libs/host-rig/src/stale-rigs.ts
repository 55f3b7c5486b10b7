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
    await systemBestEffort('ip', ['link', 'del', `kokbr${rig.subnet}`]);
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
