/** Where a command writes, and the clock it reads; main.ts wires them to the process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  now(): Date;
  /** stdout is a terminal: --watch clears the screen between frames instead of appending. */
  isTty: boolean;
  /** Aborted on Ctrl-C / SIGTERM; --watch stops then. */
  signal: AbortSignal;
}
