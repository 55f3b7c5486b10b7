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
  isClusterPaused,
  PROGRESS_DEADLINE_EXCEEDED,
} from './cluster.ts';
export {
  CLUSTER_COMPONENTS,
  CONTROL_PLANE_ORDER,
  etcdImage,
  kubeImage,
  NODE_TIER_ORDER,
  type ClusterComponentName,
  type ClusterComponentOrder,
} from './cluster-components.ts';
export { parseImageDigest, pinnedImage, type ImageDigests } from './image-digests.ts';
export { COREDNS_VERSIONS, coreDnsImage, coreDnsVersionFor, kubeProxyImage } from './addon-versions.ts';
export { dependencyClosure, planGates, type ComponentObservation, type GatePlan } from './gate-plan.ts';
export {
  KUBELET_VERSION_SKEW,
  KUBELET_VERSIONS_UNKNOWN,
  kubeletSkewChecks,
  kubeletVersionSkewProblem,
  MAX_KUBELET_MINOR_SKEW,
  type KubeletSkewCheck,
  type KubeletsObserved,
  type NodeKubelet,
} from './version-skew.ts';
export { isNewerMinor, parseMinorVersion, type MinorVersion } from './kubernetes-version.ts';
export {
  ETCD_VERSION_BY_KUBERNETES_MINOR,
  ETCD_VERSION_UNKNOWN,
  etcdVersionUnknownMessage,
  pairedEtcdVersion,
} from './etcd-versions.ts';
// The ClusterRollout planner is @kok/rollout's (planClusterRollout); here is what it reads of the objects.
export {
  readRecord,
  recordedRolloutUid,
  recordValue,
  ROLLOUT_RECORD_ANNOTATION,
  type OwnedRecord,
} from './cluster-rollout-record.ts';
export {
  availableSinceOf,
  failureOf,
  nodePoolsUpToDateSinceOf,
  observeCluster,
  type ClusterObject as ObservedCluster,
  type ObservedClusterState,
} from './cluster-rollout-observation.ts';
export {
  type ClusterRollout,
  type ClusterRolloutSpec,
  type ClusterRolloutStatus,
  type ClusterRolloutView,
  ClusterRolloutResource,
  CLUSTER_ROLLOUT_WAVE_STATES,
  PAUSED_AFTER_WAVE_ANNOTATION,
  REMAINING_WAVE_NAME,
} from './cluster-rollout.ts';
export type { Wave } from './waves.ts';
export { type PrinterColumn, type ResourceDefinition, apiVersionOf, crdNameOf } from './resource.ts';
export {
  APISERVER_SHUTDOWN_DELAY,
  APISERVER_SHUTDOWN_DURATION_FLAGS,
  OPERATOR_OWNED_FLAGS,
  REQUIRED_ADMISSION_PLUGIN,
  type ControlPlaneComponentName,
} from './control-plane-flags.ts';
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
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  describeUnmetHealthGate,
  isNodeReady,
  machineRolloutState,
  machineRolloutStateWithoutNode,
  poolRolloutSpec,
  revisionAssignedAt,
  revisionAssignedValue,
  RolloutAnnotations,
  unmetHealthGates,
  type MachineRolloutContext,
  type MachineRolloutState,
  type NodeView,
  type PoolRolloutSpec,
  type PoolWaveSpec,
  type UnmetHealthGate,
} from './nodepool-rollout-input.ts';
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
