/**
 * Each Machine's agent gets its own Machine and the node files for as long as
 * the Machine exists (nodeAgentGrant in @kok/api), and loses them before a
 * leaving Machine is released: a certificate cannot be revoked, a grant can.
 */
import { nodeAgentGrant, nodeAgentGrantName, NODE_FILES_NAMESPACE } from '@kok/api';
import type { GrantObject, Machine } from '@kok/api';
import { builtinTypes, isNotFound } from '@kok/reconcile';
import type { KubeClient, ResourceType } from '@kok/reconcile';
import type { KubernetesObject, V1ClusterRoleBinding } from '@kubernetes/client-node';

const typeOf: Record<GrantObject['kind'], ResourceType> = {
  ClusterRole: builtinTypes.clusterRole,
  ClusterRoleBinding: builtinTypes.clusterRoleBinding,
  RoleBinding: builtinTypes.roleBinding,
};

/** True when the grant's binding (written last) exists for this very Machine, not an earlier one of its name. */
export function isAgentGrantCurrent(binding: V1ClusterRoleBinding | undefined, machine: Machine): boolean {
  const owner = binding?.metadata?.ownerReferences?.[0];
  return owner !== undefined && owner.uid === machine.metadata?.uid;
}

/** The Machine a grant's binding belongs to. */
export function machineOfGrant(binding: V1ClusterRoleBinding): string | undefined {
  return binding.metadata?.ownerReferences?.find((o) => o.kind === 'Machine')?.name;
}

/**
 * Applies the grant (server-side apply: idempotent, and it moves the owner to
 * this Machine if an earlier one of the same name left its grant behind).
 * Without the node files namespace (a cluster that serves no node files)
 * there is nothing to read there, so its binding is left out.
 */
export async function writeAgentGrant(client: KubeClient, machine: Machine): Promise<void> {
  const name = machine.metadata?.name ?? '';
  for (const object of nodeAgentGrant(name, machine.metadata?.uid ?? '')) {
    try {
      await client.apply(typeOf[object.kind], object as KubernetesObject);
    } catch (error) {
      const filesNamespaceMissing = object.metadata.namespace === NODE_FILES_NAMESPACE && isNotFound(error);
      if (!filesNamespaceMissing) throw error;
    }
  }
}

/** Deletes the grant, binding first, so that no moment leaves a binding to a half-deleted role. */
export async function revokeAgentGrant(client: KubeClient, machine: string): Promise<void> {
  const name = nodeAgentGrantName(machine);
  for (const object of [...nodeAgentGrant(machine, '')].reverse())
    await client.delete(typeOf[object.kind], { name, namespace: object.metadata.namespace });
}
