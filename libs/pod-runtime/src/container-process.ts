/**
 * One container's process: the local binary with its rewritten args, inside a
 * private mount namespace whose /etc/hosts is the runtime's own file (so
 * Service names resolve to pod loopback addresses). Restarted with a capped
 * backoff when it exits, as restartPolicy Always would.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ContainerProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The hosts file bind-mounted over /etc/hosts, or undefined to run without a private mount namespace. */
  readonly hostsFile: string | undefined;
  readonly logFile: string;
  /** Restart after an exit. Default: true (restartPolicy Always). */
  readonly restart?: boolean;
}

/** The command that runs `spec` (pure, so the isolation wrapper is tested). */
export function launchCommand(spec: ContainerProcessSpec): { file: string; args: string[] } {
  if (!spec.hostsFile) return { file: spec.file, args: [...spec.args] };
  // `unshare --mount` gives the process its own mount table (private propagation):
  // the bind mount is invisible to the host and vanishes with the process. `exec`
  // keeps one pid, so signals reach the binary itself.
  return {
    file: 'unshare',
    args: [
      '--mount',
      '--',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      spec.hostsFile,
      spec.file,
      ...spec.args,
    ],
  };
}

const maxBackoffMs = 10_000;

export class ContainerProcess {
  readonly spec: ContainerProcessSpec;
  #child: ChildProcess | undefined;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #backoffMs = 500;
  startedAt: Date | undefined;
  restartCount = 0;
  lastExit: { exitCode: number; finishedAt: Date } | undefined;

  constructor(spec: ContainerProcessSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  start(): void {
    const { file, args } = launchCommand(this.spec);
    const log = openSync(this.spec.logFile, 'a');
    try {
      const child = spawn(file, args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.spec.env },
        stdio: ['ignore', log, log],
        detached: true,
      });
      this.#child = child;
      this.startedAt = new Date();
      const began = Date.now();
      child.on('error', () => undefined);
      child.on('exit', (code, signal) => {
        this.startedAt = undefined;
        this.lastExit = { exitCode: code ?? (signal ? 128 : 1), finishedAt: new Date() };
        if (this.#stopping || this.spec.restart === false) return;
        // A process that ran a while earns a fresh backoff, as the kubelet resets it.
        if (Date.now() - began > 60_000) this.#backoffMs = 500;
        this.#restartTimer = setTimeout(() => {
          this.restartCount++;
          this.start();
        }, this.#backoffMs);
        this.#backoffMs = Math.min(this.#backoffMs * 2, maxBackoffMs);
      });
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
