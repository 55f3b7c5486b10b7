/**
 * Which remediation a pass carries out (spec.rebootGeneration,
 * reinstallGeneration, restartGeneration), as data: a reboot comes first and
 * ends the pass while the host goes down; the pass that finds a new boot ID
 * completes it; a reinstall comes before a restart. The convergence plan
 * turns these decisions into its steps. Pure.
 */
import type { MachineSpec, MachineStatus } from '@kok/api';
import type { ConvergencePlan } from '../convergence-plan.ts';
import type { DesiredState } from '../desired-state.ts';
import type { JournalState } from '../journal.ts';
import { rebootProgress, remediationRequests } from '../remediation.ts';
import type { OperationEvent } from './last-operation.ts';

export type RemediationType = 'Restart' | 'Reinstall' | 'Reboot';

export type RebootStep =
  | { readonly kind: 'none' }
  /** This agent ran the reboot command: the host is going down, nothing else is done. */
  | { readonly kind: 'wait'; readonly generation: number }
  /** Journal the boot ID, then run the reboot command. */
  | { readonly kind: 'reboot'; readonly generation: number; readonly bootIDBefore: string }
  /** The host came back with a new boot ID: record the generation as done. */
  | { readonly kind: 'completed'; readonly generation: number; readonly bootID: string };

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

/**
 * This agent process ran the reboot command and the host still has the boot ID it had: it is going down.
 * A pass then reads nothing of the host (a host shutting down may not answer) and does nothing.
 */
export function awaitingOwnReboot(
  input: Pick<RemediationInput, 'journal' | 'bootID' | 'rebootIssued'>,
): boolean {
  const progress = rebootProgress(input.journal, input.bootID);
  return progress.kind === 'pending' && input.rebootIssued === progress.generation;
}

export function planRemediation(input: RemediationInput): RemediationPlan {
  const progress = rebootProgress(input.journal, input.bootID);
  if (progress.kind === 'pending' && awaitingOwnReboot(input))
    return {
      reboot: { kind: 'wait', generation: progress.generation },
      reinstallGeneration: undefined,
      remediation: undefined,
    };
  // Journaled but the boot ID is the same, and not by this process: the agent died before the host went down.
  if (progress.kind === 'pending')
    return {
      reboot: { kind: 'reboot', generation: progress.generation, bootIDBefore: input.bootID },
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
      reboot: { kind: 'reboot', generation: requests.reboot, bootIDBefore: input.bootID },
      reinstallGeneration: undefined,
      remediation: undefined,
    };
  return {
    reboot:
      progress.kind === 'completed'
        ? { kind: 'completed', generation: progress.generation, bootID: input.bootID }
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

/** What a remediation's plan is about to do, as the operation says while it runs. */
export function remediationUnderway(type: RemediationType, component: string | undefined): string {
  if (type === 'Reboot') return 'host rebooted; starting every service';
  if (type === 'Reinstall')
    return component
      ? `reinstalling ${component}, then restarting it`
      : 'reinstalling every component, then restarting them';
  return component ? `restarting ${component}` : 'restarting every service';
}

/**
 * How the operation of a plan that changes the host begins: a reboot and an
 * update start one; a remediation goes on from where an earlier pass took it.
 */
export function operationStart(plan: ConvergencePlan, desired: DesiredState): OperationEvent {
  for (const step of plan.steps)
    if (step.kind === 'reboot')
      return {
        kind: 'started',
        type: 'Reboot',
        progress: 0,
        message: `rebooting for rebootGeneration ${step.generation} (boot ID ${step.bootIDBefore})`,
      };
  const type = plan.remediation;
  if (type)
    return {
      kind: 'progressed',
      type,
      progress: 0,
      message: remediationUnderway(type, remediationScope(type, desired)),
    };
  return {
    kind: 'started',
    type: 'Update',
    progress: 0,
    message: `converging to revision ${desired.revision ?? '(none)'}`,
  };
}

export function remediationDone(type: RemediationType, component: string | undefined): string {
  if (type === 'Reboot') return 'host rebooted and every service started';
  if (type === 'Reinstall')
    return component ? `${component} reinstalled and restarted` : 'every component reinstalled and restarted';
  return component ? `${component} restarted` : 'every service restarted';
}
