/**
 * Runs one command line and returns the exit code; every failure becomes a
 * message on stderr. main.ts binds it to the process.
 */
import { CommandError, ExitCode } from './cli-errors.ts';
import type { Command } from './command-line.ts';
import { helpText, parseCommandLine } from './command-line.ts';
import type { CommandIo } from './commands/io.ts';

export const VERSION = '0.0.0';

export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    return report(error, io);
  }
  if (command.kind === 'help') {
    io.stdout(helpText(command.topic));
    return ExitCode.ok;
  }
  if (command.kind === 'version') {
    io.stdout(`kubectl-kok ${VERSION}\n`);
    return ExitCode.ok;
  }
  try {
    const { runCommand } = await import('./run-command.ts');
    await runCommand(command.verb, command.name ?? '', command.flags, io);
    return ExitCode.ok;
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CommandIo): number {
  if (error instanceof CommandError) {
    io.stderr(`error: ${error.message}\n`);
    return error.exitCode;
  }
  // Not one of ours: show everything, a person will want the stack in a bug report.
  io.stderr(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failure;
}
