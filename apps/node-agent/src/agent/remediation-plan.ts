/**
 * Which remediation a pass carries out (spec.rebootGeneration,
 * reinstallGeneration, restartGeneration), as data: a reboot comes first and
 * ends the pass while the host goes down; the pass that finds a new boot ID
 * completes it; a reinstall comes before a restart. Pure.
 */
import type { MachineSpec, MachineStatus } from '@kok/api';
import type { DesiredState } from '../desired-state.ts';
import type { JournalState } from '../journal.ts';
import { rebootProgress, remediationRequests } from '../remediation.ts';

export type RemediationType = 'Restart' | 'Reinstall' | 'Reboot';

export type RebootStep =
  | { readonly kind: 'none' }
  /** This agent ran the reboot command: the host is going down, nothing else is done. */
  | { readonly kind: 'wait' }
  /** Journal the boot ID, then run the reboot command. */
  | { readonly kind: 'reboot'; readonly generation: number }
  /** The host came back with a new boot ID: record the generation as done. */
  | { readonly kind: 'completed'; readonly generation: number };

export interface RemediationPlan {
  readonly reboot: RebootStep;
  /** The reinstallGeneration to carry out in this pass. */
  readonly reinstallGeneration: number | undefined;
  /** What the pass's operation is about, if a remediation. */
  readonly remediation: RemediationType | undefined;
}

export interface RemediationInput {
  readonly spec: MachineSpec | undefined;
  readonly status: MachineStatus | undefined;
  readonly journal: JournalState;
  readonly bootID: string;
  /** The reboot generation whose command this agent process ran. */
  readonly rebootIssued: number | undefined;
}

export function planRemediation(input: RemediationInput): RemediationPlan {
  const progress = rebootProgress(input.journal, input.bootID);
  if (progress.kind === 'pending' && input.rebootIssued === progress.generation)
    return { reboot: { kind: 'wait' }, reinstallGeneration: undefined, remediation: undefined };
  // Journaled but the boot ID is the same, and not by this process: the agent died before the host went down.
  if (progress.kind === 'pending')
    return {
      reboot: { kind: 'reboot', generation: progress.generation },
      reinstallGeneration: undefined,
      remediation: undefined,
    };
  const journal =
    progress.kind === 'completed'
      ? { ...input.journal, reboot: undefined, rebootGeneration: progress.generation }
      : input.journal;
  const requests = remediationRequests(input.spec, journal, input.status);
  if (progress.kind !== 'completed' && requests.reboot !== undefined)
    return {
      reboot: { kind: 'reboot', generation: requests.reboot },
      reinstallGeneration: undefined,
      remediation: undefined,
    };
  return {
    reboot:
      progress.kind === 'completed'
        ? { kind: 'completed', generation: progress.generation }
        : { kind: 'none' },
    reinstallGeneration: requests.reinstall,
    remediation:
      progress.kind === 'completed'
        ? 'Reboot'
        : requests.reinstall !== undefined
          ? 'Reinstall'
          : requests.restart !== undefined
            ? 'Restart'
            : undefined,
  };
}

/** The one component a Restart or Reinstall is limited to, if any. */
export function remediationScope(type: RemediationType, desired: DesiredState): string | undefined {
  if (type === 'Restart') return desired.restartComponent;
  if (type === 'Reinstall') return desired.reinstallComponent;
  return undefined;
}

export function remediationUnderway(type: RemediationType, component: string | undefined): string {
  if (type === 'Reboot') return 'host rebooted; starting every service';
  if (type === 'Reinstall')
    return component
      ? `reinstalled ${component}; restarting it`
      : 'reinstalled every component; restarting them';
  return component ? `restarting ${component}` : 'restarting every service';
}

export function remediationDone(type: RemediationType, component: string | undefined): string {
  if (type === 'Reboot') return 'host rebooted and every service started';
  if (type === 'Reinstall')
    return component ? `${component} reinstalled and restarted` : 'every component reinstalled and restarted';
  return component ? `${component} restarted` : 'every service restarted';
}
