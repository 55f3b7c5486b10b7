/**
 * The agent's small on-disk memory across crashes. Everything else is
 * observed from the host; the journal holds only what cannot be observed:
 * a service that must still be restarted or reloaded because its binary or
 * config changed under it, and directories where a killed write may have
 * left a temp file.
 *
 * Order of every mutation: journal the follow-up action → mutate the host →
 * run the action → drop it from the journal. A SIGKILL anywhere in between
 * leaves the action journaled, so the next run performs it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, writeFileAtomic } from './atomic-file.ts';

export type ServiceAction = 'restart' | 'reload';

export interface JournalState {
  /** Service actions owed, per component. A restart subsumes a reload. */
  readonly pending: Readonly<Record<string, ServiceAction>>;
  /** Directories in which a write may have been interrupted. */
  readonly touchedDirs: readonly string[];
  /** The spec.restartGeneration already acted on. */
  readonly restartGeneration?: number | undefined;
  /** The spec.reinstallGeneration already acted on. */
  readonly reinstallGeneration?: number | undefined;
  /** The spec.rebootGeneration already acted on (the host came back with a new boot ID). */
  readonly rebootGeneration?: number | undefined;
  /** A reboot under way: written before the reboot command runs, removed once the boot ID changed. */
  readonly reboot?: { readonly generation: number; readonly bootIDBefore: string } | undefined;
}

export const EMPTY_JOURNAL: JournalState = { pending: {}, touchedDirs: [] };

/** Adds an owed action; restart wins over reload. Pure. */
export function withPendingAction(
  state: JournalState,
  component: string,
  action: ServiceAction,
): JournalState {
  const existing = state.pending[component];
  const next: ServiceAction = existing === 'restart' || action === 'restart' ? 'restart' : 'reload';
  return { ...state, pending: { ...state.pending, [component]: next } };
}

export function withoutPendingAction(state: JournalState, component: string): JournalState {
  const { [component]: _done, ...rest } = state.pending;
  return { ...state, pending: rest };
}

export function withTouchedDir(state: JournalState, dir: string): JournalState {
  return state.touchedDirs.includes(dir) ? state : { ...state, touchedDirs: [...state.touchedDirs, dir] };
}

export class Journal {
  readonly #path: string;
  #state: JournalState = EMPTY_JOURNAL;

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'journal.json');
  }

  get state(): JournalState {
    return this.#state;
  }

  /** Reads the journal a previous run left; a missing file is an empty journal. */
  async load(): Promise<JournalState> {
    try {
      const parsed = JSON.parse(await readFile(this.#path, 'utf8')) as Partial<JournalState>;
      this.#state = {
        pending: parsed.pending ?? {},
        touchedDirs: parsed.touchedDirs ?? [],
        restartGeneration: parsed.restartGeneration,
        reinstallGeneration: parsed.reinstallGeneration,
        rebootGeneration: parsed.rebootGeneration,
        reboot: parsed.reboot,
      };
    } catch (error) {
      // The file is written atomically, so it is either whole or missing.
      if (!isMissing(error)) throw error;
      this.#state = EMPTY_JOURNAL;
    }
    return this.#state;
  }

  /** Persists `next` before returning; writes nothing when it equals the current state. */
  async save(next: JournalState): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(this.#state)) return;
    await writeFileAtomic(this.#path, JSON.stringify(next, null, 2) + '\n', 0o600);
    this.#state = next;
  }

  async update(change: (state: JournalState) => JournalState): Promise<void> {
    await this.save(change(this.#state));
  }
}
