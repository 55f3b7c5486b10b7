/**
 * Which 127.<block>.0.0/16 a runtime hands its pods addresses from. Runtimes
 * in different processes (a test suite and a demo, two test files run in
 * parallel) must not share one, or a probe of one runtime's pod reaches the
 * other's process. A block is claimed by creating a file named after it that
 * holds the owner's pid; a file whose owner is gone (a SIGKILLed run) is taken
 * over by renaming it away first, which only one claimer can do.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopbackBlock {
  /** The second octet: the runtime's pods get 127.<block>.x.y. */
  readonly block: number;
  release(): void;
}

export const defaultBlockDir = () => join(tmpdir(), 'kok-loopback-blocks');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function createClaim(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function ownerGone(path: string, alive: (pid: number) => boolean): boolean {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    return !(Number.isInteger(pid) && pid > 0 && alive(pid));
  } catch {
    return false; // vanished or unreadable meanwhile: let the next try decide
  }
}

/** Claims the lowest free block in `dir`; throws when all 255 are held by live processes. */
export function claimLoopbackBlock(dir = defaultBlockDir(), alive = isAlive): LoopbackBlock {
  mkdirSync(dir, { recursive: true });
  for (let block = 1; block <= 255; block++) {
    const path = join(dir, String(block));
    if (!createClaim(path)) {
      if (!ownerGone(path, alive)) continue;
      const stale = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        renameSync(path, stale);
      } catch {
        continue; // another claimer took it over first
      }
      rmSync(stale, { force: true });
      if (!createClaim(path)) continue;
    }
    let released = false;
    return {
      block,
      release: () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      },
    };
  }
  throw new Error(`every loopback block 127.1-255.0.0/16 is claimed by a live pod runtime (see ${dir})`);
}
