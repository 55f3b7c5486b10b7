/**
 * One pass of a Cluster's etcd restore (restore-plan.ts): read each member's
 * volume and restore pod, do what the plan says, and say whether the
 * StatefulSet may be made. Only for a Cluster with spec.etcd.restoreFrom whose
 * etcd never ran: once etcd had quorum, or its StatefulSet exists, the
 * snapshot is history.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import { apiReader, builtinTypes, isAlreadyExists, PatchType } from '@kok/reconcile';
import type { Logger } from 'pino';
import { persistentVolumeClaimType } from '../resource-types.ts';
import type { ObservedCluster } from '../cluster/observe.ts';
import type { RestorePlan, RestoreSource } from './restore-plan.ts';
import { ETCD_RESTORED_FROM_ANNOTATION, planRestore, restorePodName } from './restore-plan.ts';

export interface RestoreDeps {
  client: KubeClient;
  events: EventRecorder | undefined;
  log: Logger;
}

/** The snapshot to restore this pass, if the Cluster asks for one and its etcd never ran. */
export function pendingRestore(observed: ObservedCluster): RestoreSource | undefined {
  const { resolved, cluster } = observed;
  if (resolved.etcd.external || observed.etcdStatefulSetExists) return undefined;
  if (cluster.status?.etcd?.initializedTime) return undefined;
  return resolved.etcd.restoreFrom;
}

export async function restoreEtcd(
  deps: RestoreDeps,
  observed: ObservedCluster,
  source: RestoreSource,
  owner: V1OwnerReference,
): Promise<RestorePlan> {
  const { client } = deps;
  const { names, resolved, cluster } = observed;
  const { namespace } = names;
  // Read, not cached: restores are rare, and the operator watches neither claims nor pods.
  const claims = apiReader(client, persistentVolumeClaimType);
  const pods = apiReader(client, builtinTypes.pod);
  const members = await Promise.all(
    Array.from({ length: resolved.etcd.replicas }, async (_, ordinal) => ({
      claim: await claims.getByName(namespace, names.etcdClaim(ordinal)),
      pod: await pods.getByName(namespace, restorePodName(names, ordinal)),
    })),
  );
  const sourceClaim = await claims.getByName(namespace, source.claimName);
  const plan = planRestore(resolved, names, source, members, owner, {
    sourceFound: sourceClaim !== undefined,
    imageDigests: observed.imageDigests,
  });
  for (const action of plan.actions) {
    switch (action.kind) {
      case 'createClaim':
        await client.create(persistentVolumeClaimType, action.claim).catch(ignoreAlreadyExists);
        break;
      case 'createPod':
        await client.create(builtinTypes.pod, action.pod).catch(ignoreAlreadyExists);
        deps.log.info({ pod: action.pod.metadata?.name, snapshot: source.path }, 'etcd restore pod created');
        break;
      case 'markRestored':
        await client.patch(persistentVolumeClaimType, { namespace, name: action.claim }, PatchType.merge, {
          metadata: { annotations: { [ETCD_RESTORED_FROM_ANNOTATION]: action.source } },
        });
        deps.log.info(
          { member: action.member, claim: action.claim, snapshot: action.source },
          'etcd member restored',
        );
        await deps.events?.record(
          cluster,
          'Normal',
          'EtcdMemberRestored',
          'Restore',
          `etcd member ${action.member}'s data restored from snapshot ${source.path} on claim ${source.claimName} into volume ${action.claim}`,
        );
        break;
      case 'deletePod':
        await client.delete(builtinTypes.pod, { namespace, name: action.name });
        break;
      case 'deleteClaim':
        await client.delete(persistentVolumeClaimType, { namespace, name: action.name });
        break;
    }
  }
  return plan;
}

function ignoreAlreadyExists(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}
