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

export function runHostCommand(
  command: readonly string[],
  expand: (text: string) => string,
  timeoutMs: number,
): Promise<HostCommandResult> {
  const [program, ...args] = command.map(expand) as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timerDelay(timeoutMs) }, (error, stdout, stderr) => {
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
