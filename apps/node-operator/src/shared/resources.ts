import {
  apiVersionOf,
  ComponentResource,
  MachineResource,
  NodePoolResource,
  RemediationPolicyResource,
  RolloutAnnotations,
} from '@kok/api';
import type { Component, Machine, NodePool, RemediationPolicy } from '@kok/api';
import { resourceType } from '@kok/reconcile';
import type {
  KubernetesObject,
  V1CertificateSigningRequest,
  V1ControllerRevision,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';

/** REST addresses of the kinds the node-operator reads and writes besides the built-in ones. */
export const machineType = resourceType<Machine & KubernetesObject>(
  apiVersionOf(MachineResource),
  'Machine',
  MachineResource.plural,
  false,
);
export const nodePoolType = resourceType<NodePool & KubernetesObject>(
  apiVersionOf(NodePoolResource),
  'NodePool',
  NodePoolResource.plural,
  false,
);
export const remediationPolicyType = resourceType<RemediationPolicy & KubernetesObject>(
  apiVersionOf(RemediationPolicyResource),
  'RemediationPolicy',
  RemediationPolicyResource.plural,
  false,
);
export const componentType = resourceType<Component & KubernetesObject>(
  apiVersionOf(ComponentResource),
  'Component',
  ComponentResource.plural,
  false,
);
export const controllerRevisionType = resourceType<V1ControllerRevision>(
  'apps/v1',
  'ControllerRevision',
  'controllerrevisions',
  true,
);
export const certificateSigningRequestType = resourceType<V1CertificateSigningRequest>(
  'certificates.k8s.io/v1',
  'CertificateSigningRequest',
  'certificatesigningrequests',
  false,
);
export const podDisruptionBudgetType = resourceType<V1PodDisruptionBudget>(
  'policy/v1',
  'PodDisruptionBudget',
  'poddisruptionbudgets',
  true,
);

/** Annotations only the node-operator writes; together with Machine.spec they are its memory across restarts. */
export const OperatorAnnotations = {
  /** The rollout's own (cordon, drain, assignment, the pause after a wave), which kubectl kok reads too. */
  ...RolloutAnnotations,
  /** On a Machine: the label keys its pool's template put in spec.labels, so a later template can take them back. */
  templateLabelKeys: 'nodes.kok.dev/template-label-keys',
  /** On a Node: which labels, taints and the cordon kok set (JSON), so kok never removes what others set. */
  ownedByKok: 'nodes.kok.dev/owned',
  /** On a Machine: its latest remediation as JSON (policy, step, action, startedAt, state); only the latest is kept. */
  remediation: 'nodes.kok.dev/remediation',
} as const;

/** Label on ControllerRevisions: the NodePool whose template they hold. */
export const REVISION_POOL_LABEL = 'nodes.kok.dev/pool';
