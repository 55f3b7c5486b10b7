/**
 * Rebooting the host and telling one boot from the next. A real reboot runs
 * `--reboot-command` (default `systemctl reboot`) and the agent comes back
 * in a new process after the host did; `simulate` (tests and demos) stands
 * in for it inside the process: every service is stopped, the boot ID file
 * under `--root` gets a new ID, and the next pass starts the services again.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, writeFileAtomic } from './atomic-file.ts';
import type { HostPaths } from './host-paths.ts';

export const DEFAULT_REBOOT_COMMAND = 'systemctl reboot';
export const SIMULATE_REBOOT = 'simulate';
const KERNEL_BOOT_ID = '/proc/sys/kernel/random/boot_id';

/** Where the boot ID is read: the kernel's, or a file under the root for a simulated host. */
export function bootIDPath(paths: HostPaths, rebootCommand: string): string {
  return rebootCommand === SIMULATE_REBOOT ? join(paths.stateDir, 'simulated-boot-id') : KERNEL_BOOT_ID;
}

/** The current boot ID; a simulated host gets one on first use. */
export async function readBootID(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if (!isMissing(error) || path === KERNEL_BOOT_ID) throw error;
    const id = randomUUID();
    await writeFileAtomic(path, `${id}\n`, 0o644);
    return id;
  }
}

/** A new boot ID for a simulated reboot. */
export async function simulateNewBoot(path: string): Promise<string> {
  const id = randomUUID();
  await writeFileAtomic(path, `${id}\n`, 0o644);
  return id;
}

/**
 * Runs the reboot command through `sh -c`, where `onHost` says (default: here); rejects with its output
 * when it exits non-zero.
 */
export function runRebootCommand(
  command: string,
  onHost: (argv: readonly string[]) => string[] = (argv) => [...argv],
): Promise<void> {
  const [program, ...args] = onHost(['sh', '-c', command]) as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`reboot command "${command}" exited ${code}: ${output.trim().slice(0, 500)}`)),
    );
  });
}
