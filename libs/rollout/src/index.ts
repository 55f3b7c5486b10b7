export { planRollout } from './plan-rollout.ts';
export type {
  FailedMachine,
  PauseReason,
  RevisionAssignment,
  RolloutInput,
  RolloutPause,
  RolloutPlan,
  RolloutRollback,
} from './rollout-plan.ts';
export { countMachines, type RolloutCounts } from './status-counts.ts';
export { isUnavailable, occupiesBudget, type EpochMillis, type MachineState } from './machine-state.ts';
export {
  DEFAULT_MAX_FAILED,
  DEFAULT_MAX_UNAVAILABLE,
  rolloutSpecProblems,
  type IntOrPercent,
  type RolloutSpec,
  type WaveSpec,
} from './rollout-spec.ts';
export {
  applyProgressDeadline,
  isPastProgressDeadline,
  progressDeadlineAt,
  PROGRESS_DEADLINE_EXCEEDED,
} from './progress-deadline.ts';
export {
  applyDrainTimeout,
  drainDeadlineAt,
  DRAIN_TIMEOUT,
  isPastDrainTimeout,
  type DrainTimeoutView,
} from './drain-timeout.ts';
export { resolveMaxUnavailable } from './budget.ts';
export { matchesSelector, type LabelSelector, type LabelSelectorRequirement } from './label-selector.ts';
export { orderMachines } from './ordering.ts';
export { listNames, NAMES_IN_MESSAGES } from './messages.ts';
export {
  simulateRollout,
  type MachineDurations,
  type RolloutSimulation,
  type SimulatedStep,
  type SimulatedWave,
  type SimulationInput,
  type SimulationOutcome,
} from './simulate-rollout.ts';
export {
  describeWaitReason,
  WAIT_REASON_KINDS,
  type CatalogProblemKind,
  type MachineWait,
  type WaitReason,
  type WaitReasonKind,
} from './wait-reasons.ts';
export { resolveWaves, type Wave, type WaveMember, type WaveOptions } from './waves.ts';
export { isNodePoolMember, type NodePoolView, type PoolMemberView } from './pool-membership.ts';
export {
  parsePausedAfterWave,
  pauseAfterWaveOf,
  pausedAfterWaveValue,
  plannerMemory,
  poolRolloutMemory,
  type PoolRolloutMemory,
  type PoolRolloutMemoryView,
} from './pause-after-wave.ts';
// ClusterRollouts: the same waves, selectors and pause after a wave, over clusters.
export {
  clusterPhase,
  describeFailures,
  NAMED_FAILURES,
  planClusterRollout,
  REMAINING_WAVE_NAME,
  sameComponents,
  upgradedSince,
  type ClusterPhase,
  type ClusterRecord,
  type ClusterState,
  type ClusterWaveSpec,
  type Counts as ClusterRolloutCounts,
  type HoldReason as ClusterRolloutHoldReason,
  type NodeComponentVersion,
  type RolloutInput as ClusterRolloutInput,
  type RolloutPhase as ClusterRolloutPhase,
  type RolloutPlan as ClusterRolloutPlan,
  type WaveProgress as ClusterWaveProgress,
  type WaveState as ClusterWaveState,
} from './cluster-rollout/plan.ts';
export {
  clusterRolloutInput,
  DEFAULT_BAKE_SECONDS,
  selectedClusters,
  type ClusterRolloutSpecView,
  type SelectingRollout,
  type SelectableCluster,
} from './cluster-rollout/rollout-input.ts';
