/**
 * Errors the plugin reports to a person. Each message says what went wrong and
 * what to run next; main.ts prints it and exits with the error's code.
 */

export const ExitCode = {
  ok: 0,
  /** The command was understood but failed: not found, refused, unreachable. */
  failure: 1,
  /** The command line itself is wrong: unknown command or flag, missing argument. */
  usage: 2,
} as const;

/** A failure a person can act on; the message is printed as is. */
export class CommandError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = ExitCode.failure) {
    super(message);
    this.name = 'CommandError';
    this.exitCode = exitCode;
  }
}

/** The command line is wrong; printed with a pointer to --help. */
export class UsageError extends CommandError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}
