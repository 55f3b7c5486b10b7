import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, writeFileAtomic } from './atomic-file.ts';

/**
 * One small JSON document in the agent's state directory, read once and
 * rewritten atomically (so it is whole or missing) on each change; a missing
 * file reads as `empty`. The journal and the host inventory are kept in one.
 */
export class JsonStateFile<T> {
  readonly #path: string;
  readonly #empty: T;
  readonly #fromDisk: (parsed: Partial<T>) => T;
  #state: T;

  /** `fromDisk` fills what an older agent's file lacks. */
  constructor(stateDir: string, fileName: string, empty: T, fromDisk: (parsed: Partial<T>) => T) {
    this.#path = join(stateDir, fileName);
    this.#empty = empty;
    this.#fromDisk = fromDisk;
    this.#state = empty;
  }

  get state(): T {
    return this.#state;
  }

  /** Reads what a previous run left. */
  async load(): Promise<T> {
    try {
      this.#state = this.#fromDisk(JSON.parse(await readFile(this.#path, 'utf8')) as Partial<T>);
    } catch (error) {
      if (!isMissing(error)) throw error;
      this.#state = this.#empty;
    }
    return this.#state;
  }

  /** Persists `next` before returning; writes nothing when it equals the current state. */
  async save(next: T): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(this.#state)) return;
    await writeFileAtomic(this.#path, JSON.stringify(next, null, 2) + '\n', 0o600);
    this.#state = next;
  }

  async update(change: (state: T) => T): Promise<void> {
    await this.save(change(this.#state));
  }
}
