/**
 * Which phase of a CA rotation comes next. Pure. A rotation asked for by
 * spec.certificates.caRotationGeneration walks every CA of the cluster through
 *
 *   TrustingNewCA    a new CA exists; every trust bundle holds old and new; leaves still come from the old CA
 *   ReissuingLeaves  the new CA signs; every leaf is reissued from it; bundles still hold both
 *   RemovingOldCA    bundles hold the new CA only
 *   Completed        every consumer runs with that
 *
 * and moves on only once every consumer runs with the material of the phase
 * it is in ("settled"), so no client ever meets a certificate it does not
 * trust. The state lives in annotations of the CA Secrets; a CA Secret behind
 * the others (a write cut short) is brought to where the others are first.
 */
import type { CA_ROTATION_PHASES } from '@kok/api';

export type CaRotationPhase = (typeof CA_ROTATION_PHASES)[number];

/** Where one CA Secret stands. A CA that was never rotated is `{ generation: 0, phase: 'Completed' }`. */
export interface CaRotationState {
  generation: number;
  phase: CaRotationPhase;
}

export const NEVER_ROTATED: CaRotationState = { generation: 0, phase: 'Completed' };

const ORDER: readonly CaRotationPhase[] = ['TrustingNewCA', 'ReissuingLeaves', 'RemovingOldCA', 'Completed'];

export interface CaRotationInputs {
  /** spec.certificates.caRotationGeneration; 0 when unset. */
  desiredGeneration: number;
  /** The state of each CA Secret that exists; empty before the PKI is made. */
  cas: readonly CaRotationState[];
  /**
   * Every consumer runs with the material of the state the CAs are in: the
   * control plane is Available at its desired templates, nothing is held back.
   */
  settled: boolean;
}

export interface CaRotationPlan {
  /** The state every CA Secret is written at now. */
  target: CaRotationState;
  /** The target is a step past where the CAs stood: a phase begins (worth an Event). */
  advanced: boolean;
  /** What a rotation asked for or under way waits for; undefined when nothing waits. */
  waiting?: string;
}

/** Negative when `a` comes before `b`. */
export function compareStates(a: CaRotationState, b: CaRotationState): number {
  return a.generation !== b.generation
    ? a.generation - b.generation
    : ORDER.indexOf(a.phase) - ORDER.indexOf(b.phase);
}

export function nextPhase(phase: CaRotationPhase): CaRotationPhase {
  return ORDER[Math.min(ORDER.indexOf(phase) + 1, ORDER.length - 1)] ?? 'Completed';
}

export function isRotating(state: CaRotationState): boolean {
  return state.phase !== 'Completed';
}

export function planCaRotation(inputs: CaRotationInputs): CaRotationPlan {
  const { desiredGeneration, cas, settled } = inputs;
  // A new PKI is made at the asked-for generation: there is nothing to rotate away from.
  if (cas.length === 0)
    return { target: { generation: desiredGeneration, phase: 'Completed' }, advanced: false };
  const current = cas.reduce((a, b) => (compareStates(a, b) >= 0 ? a : b));
  if (cas.some((ca) => compareStates(ca, current) < 0))
    return {
      target: current,
      advanced: false,
      waiting: `bringing every CA to ${current.phase} of rotation ${current.generation}`,
    };
  if (isRotating(current)) {
    if (!settled)
      return {
        target: current,
        advanced: false,
        waiting: `${current.phase}: waiting for every consumer to run with the new material`,
      };
    return {
      target: { generation: current.generation, phase: nextPhase(current.phase) },
      advanced: true,
    };
  }
  if (desiredGeneration <= current.generation) return { target: current, advanced: false };
  if (!settled)
    return {
      target: current,
      advanced: false,
      waiting: `CA rotation ${desiredGeneration} waits for the control plane to run as desired`,
    };
  return { target: { generation: desiredGeneration, phase: 'TrustingNewCA' }, advanced: true };
}
