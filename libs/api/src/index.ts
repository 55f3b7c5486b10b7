export type { CelRule } from './cel-rule.ts';
export type {
  ComponentVersionRef,
  Condition,
  FileSpec,
  LabelSelector,
  LastOperation,
  ObjectMeta,
  Taint,
} from './common-schemas.ts';
export {
  type Machine,
  type MachineSpec,
  type MachineStatus,
  MachineResource,
  MACHINE_PHASES,
  COMPONENT_STATES,
} from './machine.ts';
export {
  type HealthGate,
  type NodePool,
  type NodePoolSpec,
  type NodePoolStatus,
  type NodePoolTemplate,
  NodePoolResource,
  DISRUPTION_ACTIONS,
} from './node-pool.ts';
export { type Component, type ComponentSpec, type ComponentStatus, ComponentResource } from './component.ts';
export {
  type RemediationPolicy,
  type RemediationPolicySpec,
  RemediationPolicyResource,
  REMEDIATION_ACTIONS,
} from './remediation-policy.ts';
export {
  type Cluster,
  type ClusterSpec,
  type ClusterStatus,
  ClusterResource,
  CA_ROTATION_PHASES,
  CLUSTER_NAME_FORBIDDEN_ENDINGS,
  CLUSTER_PHASES,
  forbiddenClusterNameEnding,
  isAllowedVersionChange,
  majorMinor,
} from './cluster.ts';
export {
  type ClusterRollout,
  type ClusterRolloutSpec,
  type ClusterRolloutStatus,
  ClusterRolloutResource,
  CLUSTER_ROLLOUT_WAVE_STATES,
  REMAINING_WAVE_NAME,
} from './cluster-rollout.ts';
export type { Wave } from './waves.ts';
export { type PrinterColumn, type ResourceDefinition, apiVersionOf, crdNameOf } from './resource.ts';
export { OPERATOR_OWNED_FLAGS, type ControlPlaneComponentName } from './control-plane-flags.ts';
export { cidrsOverlap, isCidr, isIpAddress } from './network-addresses.ts';
export { WILDCARD_DNS_NAME_PATTERN } from './common-schemas.ts';
// Names and condition helpers, also importable alone as @kok/api/core.
export * from './core.ts';
export { ALL_RESOURCES, RESOURCES, isKindName, type KindName } from './resources.ts';
export { customResourceDefinition, type CustomResourceDefinition } from './crd.ts';
export { validatorFor, describeInvalid, type FieldError, type ObjectValidator } from './validation.ts';
export { withDefaults } from './defaults.ts';
export { templateRevision, revisionName, REVISION_LENGTH } from './revision.ts';
export {
  changeActions,
  DEFAULT_DISRUPTION_ACTION,
  heaviestAction,
  machineChanges,
  needsDisruption,
  type DisruptionAction,
  type DisruptionPolicy,
  type MachineChange,
} from './disruption.ts';
