/**
 * What the operator installs in every biz-cluster before its node-operator
 * runs: the nodes.kok.dev CRDs, built from libs/api exactly as crds/ is
 * generated from it (so nothing has to be read from disk at run time), the
 * node agents' RBAC and admission policy, and the RBAC of kubelet TLS
 * bootstrap (@kok/pki nodeBootstrapRbac): holders of a bootstrap token may ask
 * for a node client certificate, which is approved; Nodes renew their own; the
 * apiserver's kubelet client may reach kubelets (system:kubelet-api-admin).
 * Then the node-operator's own role and the admin kubeconfig's cluster-admin
 * binding (biz-access.ts): the credentials of both depend on them. Last, the
 * guardrails for people that the node-operator chart ships (node-guardrails.ts):
 * its admission policies on what reaches the hosts and its user roles.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ALL_RESOURCES, customResourceDefinition, NODES_GROUP } from '@kok/api';
import { nodeBootstrapRbac } from '@kok/pki';
import type { ResourceType } from '@kok/reconcile';
import { resourceType } from '@kok/reconcile';
import { APISERVER_KUBELET_CLIENT_USER } from '../pki/certificates.ts';
import { contentHash } from '../template-hash.ts';
import { agentAccessObjects } from './agent-access.ts';
import { clusterAdminsBinding, nodeOperatorAccessObjects } from './biz-access.ts';
import { nodeGuardrailObjects } from './node-guardrails.ts';

export interface NodeApiBundle {
  /** CRDs first: the rest (the policy names machines) refers to them. */
  objects: readonly KubernetesObject[];
  /** Names of the CRDs, whose Established condition says the API serves. */
  crdNames: readonly string[];
  /** Content hash of the objects: recorded on the Cluster once they are in. */
  hash: string;
}

export function nodeApiBundle(): NodeApiBundle {
  const crds = ALL_RESOURCES.filter((r) => r.group === NODES_GROUP).map(customResourceDefinition);
  const objects: KubernetesObject[] = [
    ...crds,
    ...agentAccessObjects,
    ...nodeBootstrapRbac(APISERVER_KUBELET_CLIENT_USER),
    ...nodeOperatorAccessObjects,
    clusterAdminsBinding,
    ...nodeGuardrailObjects,
  ];
  return { objects, crdNames: crds.map((c) => c.metadata.name), hash: contentHash(objects) };
}

/**
 * What a biz-cluster gets while its node-operator is disabled: only the
 * binding that makes the admin kubeconfig cluster-admin (the full bundle
 * holds it too).
 */
export function clusterAccessBundle(): NodeApiBundle {
  const objects = [clusterAdminsBinding];
  return { objects, crdNames: [], hash: contentHash(objects) };
}

export const crdType = resourceType(
  'apiextensions.k8s.io/v1',
  'CustomResourceDefinition',
  'customresourcedefinitions',
  false,
);

const types: Record<string, ResourceType> = {
  CustomResourceDefinition: crdType,
  ClusterRole: resourceType('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: resourceType(
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    'clusterrolebindings',
    false,
  ),
  Namespace: resourceType('v1', 'Namespace', 'namespaces', false),
  Role: resourceType('rbac.authorization.k8s.io/v1', 'Role', 'roles', true),
  RoleBinding: resourceType('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
  ValidatingAdmissionPolicy: resourceType(
    'admissionregistration.k8s.io/v1',
    'ValidatingAdmissionPolicy',
    'validatingadmissionpolicies',
    false,
  ),
  ValidatingAdmissionPolicyBinding: resourceType(
    'admissionregistration.k8s.io/v1',
    'ValidatingAdmissionPolicyBinding',
    'validatingadmissionpolicybindings',
    false,
  ),
};

/** The REST type of a bundle object. */
export function bundleTypeOf(obj: KubernetesObject): ResourceType {
  const type = obj.kind ? types[obj.kind] : undefined;
  if (!type) throw new Error(`the node API bundle has no type for kind ${obj.kind ?? '(none)'}`);
  return type;
}
