import { isDoneAt, type MachineState } from './machine-state.ts';
import { NAMES_IN_MESSAGES } from './messages.ts';
import type { MachineWait, WaitReason } from './wait-reasons.ts';
import type { Wave, WaveHold } from './waves.ts';

/**
 * What holds a machine already told the target that is not done there, or
 * undefined while it is simply converging: its own failure, a remediation, or
 * a health gate its Node does not meet.
 */
export function ownWait(machine: MachineState, target: string): WaitReason | undefined {
  if (machine.failedRevision === target)
    return {
      kind: 'Failed',
      revision: target,
      detail: machine.failureMessage ?? machine.failureReason ?? 'failed',
    };
  if (machine.underRemediation) return { kind: 'UnderRemediation' };
  if (machine.unmetHealthGates && machine.unmetHealthGates.length > 0)
    return { kind: 'HealthGate', gates: machine.unmetHealthGates };
  return undefined;
}

/**
 * Every machine not done at the target under a pool-wide stop: told the target
 * (or failed there), it keeps its own reason; not told it, the stop holds it.
 */
export function waitsUnderStop(
  ordered: readonly MachineState[],
  target: string,
  stop: WaitReason,
): MachineWait[] {
  const waits: MachineWait[] = [];
  for (const machine of ordered) {
    if (isDoneAt(machine, target)) continue;
    const told = machine.desiredRevision === target || machine.failedRevision === target;
    const reason = told ? ownWait(machine, target) : stop;
    if (reason) waits.push({ machine: machine.name, reason });
  }
  return waits;
}

/** The hold at a wave boundary as a machine waits for it. */
export function holdWait(hold: WaveHold, waves: readonly Wave[], waveIndex: number): WaitReason {
  const wave = (waves[waveIndex] as Wave).label;
  switch (hold.reason) {
    case 'Baking':
      return { kind: 'Baking', wave, until: hold.until };
    case 'PauseAfter':
      return { kind: 'PauseAfter', wave, until: hold.until };
    case 'AwaitingResume': {
      const next = waves.slice(waveIndex + 1).find((later) => later.members.length > 0);
      return { kind: 'AwaitingResume', wave, nextWave: next ? next.label : 'the next wave' };
    }
  }
}

/** The budget is full: who holds it (the machines taking places, this plan's starts last), a few by name. */
export function budgetFullWait(holders: readonly string[], maxUnavailable: number): WaitReason {
  return {
    kind: 'BudgetFull',
    maxUnavailable,
    holders: holders.slice(0, NAMES_IN_MESSAGES),
    holderCount: holders.length,
  };
}

/** The label of the wave each machine is in, for machines waiting for a later wave. */
export function waveLabels(waves: readonly Wave[]): ReadonlyMap<MachineState, string> {
  const labels = new Map<MachineState, string>();
  for (const wave of waves) for (const member of wave.members) labels.set(member, wave.label);
  return labels;
}
