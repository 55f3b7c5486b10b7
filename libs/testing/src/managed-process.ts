import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reaper } from './reaper.ts';

export interface ProcessSpec {
  /** Component name, used in logs and errors. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** File that receives stdout and stderr. */
  readonly logFile: string;
  /** Resolves true once the component serves; polled until `startTimeoutMs`. */
  readonly isReady: () => Promise<boolean>;
  /** Default: 60 s (a cold page cache on a busy 2-core machine is slow). */
  readonly startTimeoutMs?: number;
}

/** How many log lines a start failure shows. */
const failureLogLines = 30;

/** One control-plane process in its own process group, with its log kept in a file. */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  readonly #reaper: Reaper;
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #exit: Promise<void> = Promise.resolve();

  constructor(spec: ProcessSpec, reaper: Reaper) {
    this.spec = spec;
    this.#reaper = reaper;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get isRunning(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    const { name, command, args, logFile } = this.spec;
    this.#log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    this.#exit = new Promise((resolveExit) => child.once('close', () => resolveExit()));
    await new Promise<void>((resolveSpawn, reject) => {
      child.once('spawn', resolveSpawn);
      child.once('error', (error) => reject(new Error(`${name}: cannot start ${command}: ${error.message}`)));
    });
    if (child.pid) this.#reaper.watchGroup(child.pid);

    const deadline = Date.now() + (this.spec.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!this.isRunning) {
        throw new Error(
          `${name} exited with ${child.exitCode ?? child.signalCode} while starting\n${this.lastLogLines()}`,
        );
      }
      if (await this.spec.isReady().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(
      `${name} did not become ready within ${this.spec.startTimeoutMs ?? 60_000} ms\n${this.lastLogLines()}`,
    );
  }

  /** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    if (this.isRunning) {
      signalGroup(child.pid, 'SIGTERM');
      const killed = await Promise.race([this.#exit.then(() => false), sleep(graceMs).then(() => true)]);
      if (killed) signalGroup(child.pid, 'SIGKILL');
    }
    // Children of the component (none expected) go with the group.
    signalGroup(child.pid, 'SIGKILL');
    await this.#exit;
    this.#reaper.forgetGroup(child.pid);
    await new Promise<void>((resolveEnd) => (this.#log ? this.#log.end(resolveEnd) : resolveEnd()));
    this.#child = undefined;
  }

  lastLogLines(count = failureLogLines): string {
    try {
      const lines = readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n');
      return `--- last ${Math.min(count, lines.length)} lines of ${this.spec.logFile} ---\n${lines.slice(-count).join('\n')}`;
    } catch {
      return `(no log at ${this.spec.logFile})`;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
