import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./reaper-process.ts', import.meta.url));

/**
 * Cleans up after us if we die without calling stop(): a detached watchdog that
 * outlives this process and reaps what we registered when our pipe to it closes.
 */
export class Reaper {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = spawn(process.execPath, [script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.#child.unref();
    // The pipe must not keep the event loop alive either.
    (this.#child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  watchGroup(pid: number): void {
    this.#send(`group ${pid}`);
  }

  forgetGroup(pid: number): void {
    this.#send(`ungroup ${pid}`);
  }

  watchDirectory(dir: string): void {
    this.#send(`dir ${dir}`);
  }

  /** Everything was cleaned up normally: the watchdog exits without acting. */
  release(): void {
    this.#send('release');
    this.#child.stdin?.end();
  }

  #send(line: string) {
    this.#child.stdin?.write(`${line}\n`);
  }
}
