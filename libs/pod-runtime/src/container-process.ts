/**
 * One container's process: the local binary with its rewritten args, inside a
 * private mount namespace whose /etc/hosts is the runtime's own file (so
 * Service names resolve to pod loopback addresses). Restarted with a capped
 * backoff when it exits, as its pod's restartPolicy says.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { RestartPolicy } from './restart-policy.ts';
import { restartsAfterExit } from './restart-policy.ts';

export interface ContainerProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The hosts file bind-mounted over /etc/hosts, or undefined to run without a private mount namespace. */
  readonly hostsFile: string | undefined;
  readonly logFile: string;
  /** Which exits are followed by a restart. Default: Always. */
  readonly restartPolicy?: RestartPolicy;
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
  lastExit: { exitCode: number; startedAt: Date; finishedAt: Date } | undefined;

  constructor(spec: ContainerProcessSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Exited, and its restart policy does not start it again: its last exit is final. */
  get finished(): boolean {
    return (
      !this.running &&
      this.lastExit !== undefined &&
      !restartsAfterExit(this.spec.restartPolicy ?? 'Always', this.lastExit.exitCode)
    );
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
      const startedAt = new Date();
      this.startedAt = startedAt;
      child.on('error', () => undefined);
      child.on('exit', (code, signal) => {
        this.startedAt = undefined;
        const exitCode = code ?? (signal ? 128 : 1);
        this.lastExit = { exitCode, startedAt, finishedAt: new Date() };
        if (this.#stopping || !restartsAfterExit(this.spec.restartPolicy ?? 'Always', exitCode)) return;
        // A process that ran a while earns a fresh backoff, as the kubelet resets it.
        if (Date.now() - startedAt.getTime() > 60_000) this.#backoffMs = 500;
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
