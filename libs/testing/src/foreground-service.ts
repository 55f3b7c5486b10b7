/**
 * The life of a local service people start in a terminal (`npm run kok`): a
 * pid file says it runs, signals stop it cleanly, and a second command stops
 * it from elsewhere by that pid file.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process-liveness.ts';

/** The pid in `pidFile` when that process still runs. */
export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Records this process in `pidFile`, runs `stop` on Ctrl-C, SIGTERM or SIGHUP, then exits; keeps the process alive until then. */
export function serveUntilSignalled(
  pidFile: string,
  stop: () => Promise<void>,
  log: (message: string) => void,
): void {
  writeFileSync(pidFile, String(process.pid));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ...`);
    try {
      await stop();
    } finally {
      rmSync(pidFile, { force: true });
    }
    log('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(signal));
  setInterval(() => undefined, 60_000);
}

/** Stops the service recorded in `pidFile` with SIGTERM and waits for it; says so when nothing runs. */
export async function stopByPidFile(
  pidFile: string,
  what: string,
  log: (message: string) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const pid = runningPid(pidFile);
  if (!pid) {
    log(`no ${what} is running`);
    rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid))
    throw new Error(
      `${what} (pid ${pid}) did not stop within ${timeoutMs / 1000} s; kill it with: kill -9 ${pid}`,
    );
  log(`stopped ${what} (pid ${pid})`);
}
