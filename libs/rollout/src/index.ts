export { planRollout, countMachines } from './plan-rollout.ts';
export type {
  PauseReason,
  RevisionAssignment,
  RolloutCounts,
  RolloutInput,
  RolloutPause,
  RolloutPlan,
  RolloutRollback,
} from './plan-rollout.ts';
export type { EpochMillis, MachineState } from './machine-state.ts';
export type { IntOrPercent, RolloutSpec, WaveSpec } from './rollout-spec.ts';
export { DEFAULT_MAX_FAILED, DEFAULT_MAX_UNAVAILABLE, rolloutSpecProblems } from './rollout-spec.ts';
export { resolveMaxUnavailable } from './budget.ts';
export { orderMachines } from './ordering.ts';
