/**
 * Who may do what in a biz-cluster, for the identities of the operator's PKI
 * (certificates.ts): the admin kubeconfig's group is cluster-admin, and the
 * node-operator holds exactly what charts/node-operator/templates/rbac.yaml
 * grants the chart-installed node-operator (biz-access.test.ts keeps the two
 * equal): its ClusterRole, the ClusterRole that lets it check who scrapes its
 * /metrics, and its leader-election Role in the namespace it runs against. Neither certificate carries system:masters, so deleting a
 * binding here revokes a credential without a CA rotation.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { CLUSTER_ADMINS_GROUP, NODE_OPERATOR_USER } from '../pki/certificates.ts';
import { NODE_OPERATOR_NAMESPACE } from '../components/node-operator.ts';

const rbac = 'rbac.authorization.k8s.io/v1';
const rbacGroup = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** The name of the node-operator's ClusterRole and its binding in the biz-cluster. */
export const NODE_OPERATOR_ROLE = NODE_OPERATOR_USER;
/** The name of the node-operator's Role (and binding) for its Lease. */
export const NODE_OPERATOR_LEADER_ELECTION_ROLE = `${NODE_OPERATOR_USER}-leader-election`;
/** The name of the ClusterRoleBinding that makes the admin kubeconfig cluster-admin. */
export const CLUSTER_ADMINS_BINDING = CLUSTER_ADMINS_GROUP;

/** The rules of the chart's ClusterRole, as the chart states them (the why of each rule is there). */
export const nodeOperatorRules: readonly PolicyRule[] = [
  {
    apiGroups: ['nodes.kok.dev'],
    resources: ['machines', 'nodepools', 'remediationpolicies'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  {
    apiGroups: ['nodes.kok.dev'],
    resources: ['machines/status', 'nodepools/status', 'remediationpolicies/status', 'components/status'],
    verbs: ['get', 'update', 'patch'],
  },
  { apiGroups: ['nodes.kok.dev'], resources: ['components'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  {
    apiGroups: ['apps'],
    resources: ['controllerrevisions'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  {
    apiGroups: ['certificates.k8s.io'],
    resources: ['certificatesigningrequests'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['certificates.k8s.io'],
    resources: ['certificatesigningrequests/approval'],
    verbs: ['update'],
  },
  {
    apiGroups: ['certificates.k8s.io'],
    resources: ['signers'],
    resourceNames: ['kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client'],
    verbs: ['approve'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['clusterrolebindings'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['clusterroles', 'rolebindings'],
    verbs: ['create', 'patch', 'delete'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles'],
    resourceNames: ['kok:node-agent-files'],
    verbs: ['bind'],
  },
];

/**
 * The rules of the chart's metrics-auth ClusterRole: the node-operator's /metrics answers only a token the
 * biz apiserver authenticates (TokenReview) and allows to get /metrics (SubjectAccessReview).
 */
export const nodeOperatorMetricsAuthRules: readonly PolicyRule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** The name of the node-operator's ClusterRole (and binding) for checking scrapers. */
export const NODE_OPERATOR_METRICS_AUTH_ROLE = `${NODE_OPERATOR_USER}-metrics-auth`;

/** The rules of the chart's leader-election Role. */
export const nodeOperatorLeaderElectionRules: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

const nodeOperatorSubject = { apiGroup: rbacGroup, kind: 'User', name: NODE_OPERATOR_USER };

/** The admin kubeconfig's group bound to cluster-admin. */
export const clusterAdminsBinding: KubernetesObject = {
  apiVersion: rbac,
  kind: 'ClusterRoleBinding',
  metadata: { name: CLUSTER_ADMINS_BINDING },
  roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: CLUSTER_ADMINS_GROUP }],
} as KubernetesObject;

/** In the order they are applied: a role before its binding, the namespace before what lives in it. */
export const nodeOperatorAccessObjects: readonly KubernetesObject[] = [
  {
    apiVersion: rbac,
    kind: 'ClusterRole',
    metadata: { name: NODE_OPERATOR_ROLE },
    rules: nodeOperatorRules,
  } as KubernetesObject,
  {
    apiVersion: rbac,
    kind: 'ClusterRoleBinding',
    metadata: { name: NODE_OPERATOR_ROLE },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: NODE_OPERATOR_ROLE },
    subjects: [nodeOperatorSubject],
  } as KubernetesObject,
  {
    apiVersion: rbac,
    kind: 'ClusterRole',
    metadata: { name: NODE_OPERATOR_METRICS_AUTH_ROLE },
    rules: nodeOperatorMetricsAuthRules,
  } as KubernetesObject,
  {
    apiVersion: rbac,
    kind: 'ClusterRoleBinding',
    metadata: { name: NODE_OPERATOR_METRICS_AUTH_ROLE },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: NODE_OPERATOR_METRICS_AUTH_ROLE },
    subjects: [nodeOperatorSubject],
  } as KubernetesObject,
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_OPERATOR_NAMESPACE } },
  {
    apiVersion: rbac,
    kind: 'Role',
    metadata: { name: NODE_OPERATOR_LEADER_ELECTION_ROLE, namespace: NODE_OPERATOR_NAMESPACE },
    rules: nodeOperatorLeaderElectionRules,
  } as KubernetesObject,
  {
    apiVersion: rbac,
    kind: 'RoleBinding',
    metadata: { name: NODE_OPERATOR_LEADER_ELECTION_ROLE, namespace: NODE_OPERATOR_NAMESPACE },
    roleRef: { apiGroup: rbacGroup, kind: 'Role', name: NODE_OPERATOR_LEADER_ELECTION_ROLE },
    subjects: [nodeOperatorSubject],
  } as KubernetesObject,
];
