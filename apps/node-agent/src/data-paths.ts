/**
 * A Component's dataPaths: what its software creates itself (containerd's
 * root and state, the kubelet's root directory with its pod volumes and
 * certificates). They go when the host leaves the cluster, and only then,
 * after every service stopped: whatever is still mounted below one (a pod's
 * volume, a container's rootfs) is unmounted first, and a path is deleted only
 * once nothing is mounted there any more, so a delete never reaches into a
 * mounted filesystem. Nothing outside the agent's root is touched, through a
 * symlink or otherwise.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { isMissing } from './atomic-file.ts';
import type { HostExecution } from './host-execution.ts';
import type { HostPaths } from './host-paths.ts';

const run = promisify(execFile);

/**
 * Why a data path is kept although its component asks for it to go, or
 * undefined to delete it: the root itself, or a path at or above one of the
 * agent's own directories (its state, downloads, logs, installed versions).
 * Pure; paths are host paths.
 */
export function dataPathRefusal(path: string, agentDirs: readonly string[]): string | undefined {
  const normalized = posix.normalize(path).replace(/\/+$/, '') || '/';
  if (normalized === '/') return `${path} is the host's root`;
  const held = agentDirs.find((dir) => dir === normalized || dir.startsWith(`${normalized}/`));
  return held ? `${path} holds the node-agent's own ${held}` : undefined;
}

/** Mount points at or below `dir` in a mountinfo listing, deepest first (the order to unmount them in). Pure. */
export function mountPointsAtOrBelow(dir: string, mountinfo: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point !== '')
    // mountinfo escapes space, tab, newline and backslash as octal.
    .map((point) =>
      point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((point) => point === dir || point.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/**
 * Where host path `path` is on this machine once every symlink among its
 * parents is resolved, or a reason to leave it alone: a parent that leads
 * outside the root. A missing parent means nothing is there.
 */
export async function resolvedDataPath(
  paths: HostPaths,
  path: string,
): Promise<{ real: string } | { missing: true } | { problem: string }> {
  const full = paths.host(path);
  let parent: string;
  try {
    parent = await realpath(dirname(full));
  } catch (error) {
    if (isMissing(error)) return { missing: true };
    throw error;
  }
  const rootReal = await realpath(paths.root);
  const inside = relative(rootReal, parent);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    return { problem: `${path}: its parent leads outside the root ${paths.root} (to ${parent})` };
  return { real: join(parent, basename(full)) };
}

/**
 * Unmounts everything at or below `real` (in the host's mount namespace, where
 * the services the agent ran mounted; `execution` says whether that is the
 * agent's own or PID 1's), then deletes it. Throws, deleting nothing,
 * while anything there is still mounted.
 */
export async function removeDataPath(
  real: string,
  readMountinfo?: () => Promise<string>,
  execution?: HostExecution,
): Promise<string[]> {
  const onHost = execution?.hostPath(real) ?? real;
  const mountinfo =
    readMountinfo ??
    (() => readFile(execution?.entersHost ? '/proc/1/mountinfo' : '/proc/self/mountinfo', 'utf8'));
  const umount = (...args: string[]) => {
    const [program, ...rest] = (execution?.command(['umount', ...args]) ?? ['umount', ...args]) as [
      string,
      ...string[],
    ];
    return run(program, rest);
  };
  const unmounted: string[] = [];
  // Rounds: a mount point may hold several mounts stacked on each other.
  for (let round = 0; round < 5; round++) {
    const points = mountPointsAtOrBelow(onHost, await mountinfo());
    if (points.length === 0) break;
    for (const point of points) {
      // A plain unmount first; a lazy one detaches what is busy, so the delete cannot reach into it either.
      const done = await umount(point).then(
        () => true,
        () =>
          umount('-l', point).then(
            () => true,
            () => false,
          ),
      );
      if (done) unmounted.push(point);
    }
  }
  const still = mountPointsAtOrBelow(onHost, await mountinfo());
  if (still.length) throw new Error(`cannot unmount ${still.join(', ')}: ${onHost} is not deleted`);
  await rm(real, { recursive: true, force: true });
  return unmounted;
}
