/**
 * What one Machine's node agent may touch beyond what every agent may (the
 * catalog, events, its CSRs): its own Machine and the shared node files. The
 * node-operator writes these objects while the Machine exists and deletes them
 * before it releases a leaving Machine. A client certificate cannot be
 * revoked, but once its grant is gone it opens nothing that matters, so a
 * removed host is shut out at once rather than when its certificate expires.
 *
 * RBAC matches `resourceNames` for a list or watch that selects one object by
 * `metadata.name`, which is how the agent watches its Machine.
 */
import { nodeAgentUser } from './node-agent-identity.ts';
import { API_VERSION_V1ALPHA1, NODES_GROUP } from './resource.ts';

/** Where files[].secretRef / configMapRef objects live: the one namespace agents may read. */
export const NODE_FILES_NAMESPACE = 'kok-node-files';
/** The Role (in NODE_FILES_NAMESPACE) that lets its subjects read Secrets and ConfigMaps there. */
export const NODE_FILES_ROLE = 'kok:node-agent-files';
/** Carried by every grant object, so the node-operator can watch them alone. */
export const NODE_AGENT_GRANT_LABEL = 'nodes.kok.dev/agent-grant';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_VERSION = `${RBAC_GROUP}/v1`;

export interface GrantObject {
  apiVersion: string;
  kind: 'ClusterRole' | 'ClusterRoleBinding' | 'RoleBinding';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller: boolean;
    }[];
  };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames: string[] }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { apiGroup: string; kind: 'User'; name: string }[];
}

/** One name for all three objects: RBAC names may hold colons, and a Machine name is unique. */
export function nodeAgentGrantName(machine: string): string {
  return nodeAgentUser(machine);
}

/**
 * The grant of Machine `machine` (uid `uid`), in the order to apply it: the
 * ClusterRoleBinding last, because the node-operator takes its presence to
 * mean the whole grant is in place. Each is owned by the Machine, so the
 * garbage collector removes a grant the operator did not.
 */
export function nodeAgentGrant(machine: string, uid: string): readonly GrantObject[] {
  const name = nodeAgentGrantName(machine);
  const metadata = {
    name,
    labels: { [NODE_AGENT_GRANT_LABEL]: 'true' },
    ownerReferences: [
      {
        apiVersion: `${NODES_GROUP}/${API_VERSION_V1ALPHA1}`,
        kind: 'Machine',
        name: machine,
        uid,
        controller: true,
      },
    ],
  };
  const subjects = [{ apiGroup: RBAC_GROUP, kind: 'User' as const, name: nodeAgentUser(machine) }];
  return [
    {
      apiVersion: RBAC_VERSION,
      kind: 'RoleBinding',
      metadata: { ...metadata, namespace: NODE_FILES_NAMESPACE },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: NODE_FILES_ROLE },
      subjects,
    },
    {
      apiVersion: RBAC_VERSION,
      kind: 'ClusterRole',
      metadata,
      rules: [
        {
          apiGroups: [NODES_GROUP],
          resources: ['machines'],
          verbs: ['get', 'list', 'watch'],
          resourceNames: [machine],
        },
        {
          apiGroups: [NODES_GROUP],
          resources: ['machines/status'],
          verbs: ['patch'],
          resourceNames: [machine],
        },
      ],
    },
    {
      apiVersion: RBAC_VERSION,
      kind: 'ClusterRoleBinding',
      metadata,
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects,
    },
  ];
}
