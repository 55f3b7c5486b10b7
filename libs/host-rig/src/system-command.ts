/**
 * Runs the system tools the rig drives (ip, mount, iptables). Errors carry
 * the command and its stderr, so a failed setup says what the kernel refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function system(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], { encoding: 'utf8', timeout: 30_000 });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(stderr || (error as Error).message).trim()}`, {
      cause: error,
    });
  }
}

/** Like `system`, for cleanup: a failure is returned, not thrown, so teardown goes on. */
export async function systemBestEffort(
  command: string,
  args: readonly string[],
): Promise<string | undefined> {
  try {
    await system(command, args);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
