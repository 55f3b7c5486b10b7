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
    const [parent, name] = splitPath(rig.cgroupParent);
    await new HostCgroups(name, { parent }).destroy().catch((error: unknown) => log(String(error)));
    for (const namespace of readdirSync('/run/netns').filter((n) => n.startsWith(`kok-${rig.subnet}-`)))
      await systemBestEffort('ip', ['netns', 'del', namespace]);
    await systemBestEffort('ip', ['link', 'del', `kokbr${rig.subnet}`]);
    rmSync(rig.dir, { recursive: true, force: true });
    unregisterRig(rig.subnet);
    swept.push(rig.subnet);
  }
  return swept;
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
