/**
 * One command run on the host for a Component (an exec health check, a
 * versionCheck, a beforeRemoval): host variables expanded, a timeout, and a
 * failure said the same way everywhere.
 */
import { execFile } from 'node:child_process';
import { timerDelay } from '@kok/reconcile/timer-delay';
import { boundedText } from './bounded-text.ts';

export type HostCommandResult =
  | { readonly ok: true; readonly stdout: string; readonly stderr: string }
  | {
      readonly ok: false;
      readonly program: string;
      /** `exited 3`, or why it did not run (not found, timed out). */
      readonly failure: string;
      /** The last line it printed (stderr, else stdout), if any, cut to a size a status message holds. */
      readonly lastLine: string;
    };

/** Expands host variables in `command`, then runs it where `onHost` says (on the host, or in its namespaces). */
export function runHostCommand(
  command: readonly string[],
  expand: (text: string) => string,
  timeoutMs: number,
  onHost: (argv: readonly string[]) => string[] = (argv) => [...argv],
): Promise<HostCommandResult> {
  const [program, ...args] = command.map(expand) as [string, ...string[]];
  const [runs, ...runArgs] = onHost([program, ...args]) as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(runs, runArgs, { timeout: timerDelay(timeoutMs) }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr });
      resolve({
        ok: false,
        program,
        failure: boundedText(typeof error.code === 'number' ? `exited ${error.code}` : error.message),
        lastLine: boundedText((stderr || stdout).trim().split('\n').pop() ?? ''),
      });
    });
  });
}
