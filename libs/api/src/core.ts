/**
 * `@kok/api/core`: the names and condition helpers a process needs at run
 * time, without the schemas (typebox, ajv) that the CRDs and validation are
 * built from. The node agent runs on every host and imports only this; types
 * come from `@kok/api` as type-only imports, which cost nothing at run time.
 */
export {
  findCondition,
  changedSince,
  isConditionTrue,
  isConditionTrueSince,
  isConditionUpToDate,
  metaTime,
  removeCondition,
  setCondition,
  type ConditionStatus,
  type ConditionUpdate,
} from './conditions.ts';
export {
  Annotations,
  ClusterConditions,
  ComponentConditions,
  Finalizers,
  Labels,
  MachineConditions,
  NodePoolConditions,
} from './well-known.ts';
export {
  NODE_AGENT_GROUP,
  NODE_AGENT_MAX_CERTIFICATE_SECONDS,
  NODE_AGENT_SIGNER,
  NODE_AGENT_USER_PREFIX,
  machineOfNodeAgent,
  nodeAgentUser,
} from './node-agent-identity.ts';
export {
  NODE_AGENT_GRANT_LABEL,
  NODE_FILES_NAMESPACE,
  NODE_FILES_ROLE,
  nodeAgentGrant,
  nodeAgentGrantName,
  type GrantObject,
} from './node-agent-grant.ts';
export { DEFAULT_ARTIFACT_MAX_SIZE_BYTES, MAX_ARTIFACT_MAX_SIZE_BYTES } from './artifact-limits.ts';
export { goDurationMs } from './go-duration.ts';
export { DNS_LABEL_PATTERN, SYSTEMD_UNIT_PATTERN } from './string-patterns.ts';
export { API_VERSION_V1ALPHA1, CLUSTERS_GROUP, KOK_CATEGORY, NODES_GROUP } from './resource.ts';
export {
  clusterRolloutType,
  clusterType,
  componentType,
  machineType,
  nodePoolType,
  remediationPolicyType,
  type ClusterObject,
  type ClusterRolloutObject,
  type ComponentObject,
  type KindAddress,
  type MachineObject,
  type NodePoolObject,
  type RemediationPolicyObject,
} from './kinds.ts';
