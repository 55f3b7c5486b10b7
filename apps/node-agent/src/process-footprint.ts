/**
 * The agent runs on every host, so every MiB it holds is paid on every host.
 * Two settings must be in place before Node.js starts, so the agent
 * re-executes itself once with them (same PID: systemd, the DaemonSet and the
 * rig still see one process), unless whoever started it set them already:
 *
 * - glibc returns freed blocks of 32 KiB and more to the kernel at once.
 *   Downloads and unpacking allocate 64 KiB chunks; left to the default
 *   heuristics, one 80 MiB artifact leaves 50–90 MiB of freed memory resident
 *   for good.
 * - V8's young generation keeps 1 MiB semi-spaces: the agent allocates
 *   little and often, and a larger nursery only raises the idle floor.
 */

export const MMAP_THRESHOLD_VARIABLE = 'MALLOC_MMAP_THRESHOLD_';
const MMAP_THRESHOLD_BYTES = '32768';
const SEMI_SPACE_FLAG = '--max-semi-space-size';

export interface ProcessLaunch {
  readonly execArgv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** How to start again with a small footprint; undefined when the process already runs that way (or was told how). */
export function smallFootprintLaunch(current: ProcessLaunch): ProcessLaunch | undefined {
  if (current.env[MMAP_THRESHOLD_VARIABLE] !== undefined) return undefined;
  const chosen = current.execArgv.some((a) => a.startsWith(SEMI_SPACE_FLAG));
  return {
    execArgv: chosen ? current.execArgv : [`${SEMI_SPACE_FLAG}=1`, ...current.execArgv],
    env: { ...current.env, [MMAP_THRESHOLD_VARIABLE]: MMAP_THRESHOLD_BYTES },
  };
}

/** Replaces this process with itself under smallFootprintLaunch, or returns when there is nothing to change. */
export function reexecWithSmallFootprint(): void {
  const launch = smallFootprintLaunch({ execArgv: process.execArgv, env: process.env });
  if (!launch || !process.execve) return;
  process.execve(
    process.execPath,
    [process.execPath, ...launch.execArgv, ...process.argv.slice(1)],
    launch.env,
  );
}

/** The environment for a service the agent starts: the agent's own allocator tuning is not the service's. */
export function withoutAgentTuning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [MMAP_THRESHOLD_VARIABLE]: _tuning, ...rest } = env;
  return rest;
}
