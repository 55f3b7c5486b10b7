/**
 * What a node agent may do in a biz-cluster: the objects of
 * apps/node-agent/deploy/rbac.yaml and admission-policy.yaml, as the operator
 * installs them (agent-access.test.ts keeps the two equal). Every agent
 * authenticates as system:node-agent:<machine> in group kok:node-agents; RBAC
 * lets the group read the catalog, and the node-operator grants each agent its
 * own Machine and the node files (nodeAgentGrant in @kok/api). The admission
 * policy confines each agent's writes to the Machine named after it as well.
 */
import { NODE_FILES_NAMESPACE, NODE_FILES_ROLE } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';

const rbac = 'rbac.authorization.k8s.io/v1';
const admission = 'admissionregistration.k8s.io/v1';
const AGENT_GROUP = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kok:node-agents' };

/** In the order they are applied: a namespace before what lives in it, a policy before its binding. */
export const agentAccessObjects: readonly KubernetesObject[] = [
  {
    apiVersion: rbac,
    kind: 'ClusterRole',
    metadata: { name: 'kok:node-agent' },
    rules: [
      {
        apiGroups: ['nodes.kok.dev'],
        resources: ['components', 'nodepools'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['certificatesigningrequests'],
        verbs: ['create', 'get'],
      },
      // Checking who scrapes its /metrics.
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ],
  } as KubernetesObject,
  {
    apiVersion: rbac,
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kok:node-agents' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kok:node-agent' },
    subjects: [AGENT_GROUP],
  } as KubernetesObject,
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_FILES_NAMESPACE } },
  {
    apiVersion: rbac,
    kind: 'Role',
    metadata: { name: NODE_FILES_ROLE, namespace: NODE_FILES_NAMESPACE },
    rules: [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
  } as KubernetesObject,
  {
    apiVersion: admission,
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'kok-node-agent-own-machine' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['nodes.kok.dev'],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['machines', 'machines/status'],
          },
        ],
      },
      matchConditions: [
        {
          name: 'is-node-agent',
          expression:
            "'kok:node-agents' in request.userInfo.groups || request.userInfo.username.startsWith('system:node-agent:')",
        },
      ],
      validations: [
        {
          expression: "request.userInfo.username == 'system:node-agent:' + request.name",
          messageExpression:
            "'node agent ' + request.userInfo.username + ' may only write the Machine named after it (system:node-agent:<machine>), not Machine ' + request.name",
          reason: 'Forbidden',
        },
      ],
    },
  } as KubernetesObject,
  {
    apiVersion: admission,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'kok-node-agent-own-machine' },
    spec: { policyName: 'kok-node-agent-own-machine', validationActions: ['Deny'] },
  } as KubernetesObject,
];
