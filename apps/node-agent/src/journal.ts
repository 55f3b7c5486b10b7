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
import { JsonStateFile } from './state-file.ts';

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

/** The journal file in the agent's state directory (see state-file.ts). */
export class Journal extends JsonStateFile<JournalState> {
  constructor(stateDir: string) {
    super(stateDir, 'journal.json', EMPTY_JOURNAL, (parsed) => ({
      pending: parsed.pending ?? {},
      touchedDirs: parsed.touchedDirs ?? [],
      restartGeneration: parsed.restartGeneration,
      reinstallGeneration: parsed.reinstallGeneration,
      rebootGeneration: parsed.rebootGeneration,
      reboot: parsed.reboot,
    }));
  }
}
