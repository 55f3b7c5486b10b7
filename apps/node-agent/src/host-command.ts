/**
 * One command run on the host for a Component (an exec health check, a
 * versionCheck, a beforeRemoval): host variables expanded, a timeout, and a
 * failure said the same way everywhere.
 */
import { execFile } from 'node:child_process';

export type HostCommandResult =
  | { readonly ok: true; readonly stdout: string; readonly stderr: string }
  | {
      readonly ok: false;
      readonly program: string;
      /** `exited 3`, or why it did not run (not found, timed out). */
      readonly failure: string;
      /** The last line it printed (stderr, else stdout), if any. */
      readonly lastLine: string;
    };

export function runHostCommand(
  command: readonly string[],
  expand: (text: string) => string,
  timeoutMs: number,
): Promise<HostCommandResult> {
  const [program, ...args] = command.map(expand) as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr });
      resolve({
        ok: false,
        program,
        failure: typeof error.code === 'number' ? `exited ${error.code}` : error.message,
        lastLine: (stderr || stdout).trim().split('\n').pop() ?? '',
      });
    });
  });
}
