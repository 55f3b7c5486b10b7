/**
 * Runs the plugin the way a person does: as a child process, through its bin
 * shim (or through the real kubectl, which finds it on PATH), with Node 24
 * first on PATH.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { eventually as pollUntil } from '@kok/testing';

export const PLUGIN_BIN_DIR = join(import.meta.dirname, '..', '..', 'bin');
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** PATH with this Node and the plugin's bin directory first. */
export function pluginPath(): string {
  return [dirname(process.execPath), PLUGIN_BIN_DIR, process.env.PATH ?? ''].join(':');
}

export function run(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { env: { ...process.env, PATH: pluginPath(), ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `kubectl-kok <args>` through the bin shim. */
export function kok(args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  return run(join(PLUGIN_BIN_DIR, 'kubectl-kok'), args, env);
}

/** A long-running `kubectl-kok <args>` (e.g. --watch) whose stdout is collected as it comes. */
export function startKok(args: readonly string[]): {
  child: ChildProcess;
  output(): string;
  exited: Promise<number>;
} {
  const child = spawn(join(PLUGIN_BIN_DIR, 'kubectl-kok'), [...args], {
    env: { ...process.env, PATH: pluginPath() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  return { child, output: () => output, exited };
}

/** @kok/testing's eventually with this app's deadline (20 s). */
export const eventually: typeof pollUntil = (what, check, timeoutMs = 20_000, options) =>
  pollUntil(what, check, timeoutMs, options);
