import type { MachineState } from '../machine-state.ts';

/** A fixed "now" for example tests. */
export const NOW = Date.parse('2025-06-01T12:00:00Z');

/** A machine healthy and idle at revision r1 (told r1, running r1, Ready, schedulable), changed by `overrides`. */
export function machine(name: string, overrides: Partial<MachineState> = {}): MachineState {
  return {
    name,
    labels: {},
    currentRevision: 'r1',
    desiredRevision: 'r1',
    ready: true,
    cordoned: false,
    needsDisruption: true,
    finishedAt: NOW - 86_400_000,
    ...overrides,
  };
}

/** Healthy at r2 after the rollout cordoned, drained and updated it, finished at `finishedAt`. */
export function doneAtTarget(name: string, overrides: Partial<MachineState> = {}): MachineState {
  return machine(name, {
    currentRevision: 'r2',
    desiredRevision: 'r2',
    finishedAt: NOW - 600_000,
    ...overrides,
  });
}

/** `count` machines named worker-1 … worker-<count>, each healthy at r1. */
export function workers(count: number, overrides: Partial<MachineState> = {}): MachineState[] {
  return Array.from({ length: count }, (_, index) => machine(`worker-${index + 1}`, overrides));
}
