/**
 * Remediation the node-operator asks for through the Machine spec (issue 7):
 * restart every service, reinstall every component, or reboot the host, each
 * once per increase of its generation. Pure.
 *
 * What was already done is in the journal. A journal without a record (a
 * fresh state dir) falls back to what the Machine status says was observed,
 * so a reinstalled agent does not repeat an old reboot; only a Machine that
 * never reported one counts from 0.
 */
import type { MachineSpec, MachineStatus } from '@kok/api';
import type { JournalState } from './journal.ts';

export type RemediationKind = 'restart' | 'reinstall' | 'reboot';

export interface RemediationRequests {
  /** Generation to restart for, when the spec asks for more than was done. */
  readonly restart: number | undefined;
  readonly reinstall: number | undefined;
  readonly reboot: number | undefined;
}

/** The generation of each kind already carried out. */
export function doneGenerations(
  journal: JournalState,
  status: MachineStatus | undefined,
): Record<RemediationKind, number> {
  return {
    restart: journal.restartGeneration ?? status?.observedRestartGeneration ?? 0,
    reinstall: journal.reinstallGeneration ?? status?.observedReinstallGeneration ?? 0,
    reboot: journal.rebootGeneration ?? status?.observedRebootGeneration ?? 0,
  };
}

export function remediationRequests(
  spec: MachineSpec | undefined,
  journal: JournalState,
  status: MachineStatus | undefined,
): RemediationRequests {
  const done = doneGenerations(journal, status);
  const wanted = (generation: number | undefined, already: number) =>
    generation !== undefined && generation > already ? generation : undefined;
  return {
    restart: wanted(spec?.restartGeneration, done.restart),
    reinstall: wanted(spec?.reinstallGeneration, done.reinstall),
    reboot: wanted(spec?.rebootGeneration, done.reboot),
  };
}

/**
 * Where an interrupted reboot stands. The journal records the boot ID before
 * the reboot command runs: a different boot ID now means the host came back.
 */
export type RebootProgress =
  | { readonly kind: 'none' }
  | { readonly kind: 'completed'; readonly generation: number }
  /** Same boot: the command ran in this process (wait) or in one that died without a reboot (issue it again). */
  | { readonly kind: 'pending'; readonly generation: number };

export function rebootProgress(journal: JournalState, bootID: string): RebootProgress {
  const reboot = journal.reboot;
  if (!reboot) return { kind: 'none' };
  return reboot.bootIDBefore === bootID
    ? { kind: 'pending', generation: reboot.generation }
    : { kind: 'completed', generation: reboot.generation };
}
