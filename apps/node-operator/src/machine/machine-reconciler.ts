import { Annotations, changedSince, Finalizers, MachineConditions, nodeAgentGrantName } from '@kok/api';
import type { Condition, NodePool } from '@kok/api';
import { builtinTypes, isNotFound, PatchType } from '@kok/reconcile';
import type { EventRecorder, Informer, KubeClient, Reconciler, Result } from '@kok/reconcile';
import type { KubernetesObject, V1ClusterRoleBinding, V1Node } from '@kubernetes/client-node';
import { isAgentGrantCurrent, revokeAgentGrant, writeAgentGrant } from './agent-grant.ts';
import { agentNodeCondition, agentNodeConditionPatch } from './agent-node-condition.ts';
import { planDecommission } from './decommission-plan.ts';
import type { Drainer } from '../shared/drainer.ts';
import { machineNodeStatus, machineNodeStatusChanged } from './node-conditions.ts';
import { leftPoolRolloutStatus } from '../shared/machine-patches.ts';
import { syncNode } from '../shared/node-writer.ts';
import { WrittenFrom } from './written-from.ts';
import { owningPool } from '../shared/pool-ownership.ts';
import { machineType } from '../shared/resources.ts';
import type { MachineObject } from '@kok/api';

/** How soon a leaving Machine is looked at again while its pods drain or its agent cleans up. */
const DECOMMISSION_POLL_MS = 2_000;

export interface MachineDeps {
  /** Its field manager owns nodeRef and the Node* conditions of Machine.status. */
  client: KubeClient;
  /**
   * The NodePool controller's status writer (its field manager owns waitingFor and RolloutFailed):
   * takes both back from a Machine no pool drives any more, which no pool's pass writes.
   */
  rolloutStatusClient: KubeClient;
  machines: Informer<MachineObject>;
  nodes: Informer<V1Node>;
  /** The pool's drain settings apply when a Machine leaves. */
  pools: Informer<NodePool & KubernetesObject>;
  /** The bindings of the per-Machine agent grants (agent-grant.ts). */
  grants: Informer<V1ClusterRoleBinding>;
  drainer: Drainer;
  events: EventRecorder;
  now: () => Date;
}

/**
 * Machine ↔ Node: the Node gets the Machine's labels, taints and cordon (only
 * keys kok owns, recorded on the Node) and the agent's component health as
 * condition KokComponentFailed, and the Machine gets status.nodeRef,
 * NodeHealthy and the problem-detector conditions of its Node. The Machine's
 * agent gets its grant (agent-grant.ts). A Machine no pool drives loses the
 * rollout's waitingFor and RolloutFailed. A deleted Machine is a host leaving:
 * see decommission-plan.ts; its agent's grant goes last, just before the
 * Machine is released.
 */
export function machineReconciler(deps: MachineDeps): Reconciler {
  // The Node's resourceVersion, and the grant binding's (empty: none), this reconciler last wrote them
  // from. A pass whose cache still shows it would send the same writes again: the Node's label patch,
  // which carries the resourceVersion, to fail with a conflict, the rest to say again what they said.
  const nodeWrittenFrom = new WrittenFrom();
  const grantWrittenFrom = new WrittenFrom();
  return async (request) => {
    const cached = deps.machines.getByName(undefined, request.name);
    if (!cached || cached.metadata?.annotations?.[Annotations.machinePaused] !== undefined) return;
    const node = deps.nodes.getByName(undefined, request.name);
    const nodeVersion = node?.metadata?.resourceVersion ?? '';
    const nodeCacheBehind = nodeWrittenFrom.behind(request.name, nodeVersion, Date.now());
    if (cached.metadata?.deletionTimestamp) return decommission(deps, cached, node);
    if (!cached.metadata?.finalizers?.includes(Finalizers.machine))
      await addMachineFinalizer(deps.client, cached);
    const machine = cached;
    const now = deps.now();
    const status = machineNodeStatus(machine, node, now);
    const conditionPatch = node ? agentNodeConditionPatch(node, agentNodeCondition(machine), now) : undefined;
    const grant = deps.grants.getByName(undefined, nodeAgentGrantName(request.name));
    const grantVersion = grant?.metadata?.resourceVersion ?? '';
    // Per Machine object: a new Machine of the same name gets its grant at once.
    const grantKey = `${request.name}/${machine.metadata?.uid ?? ''}`;
    const writeGrant = async (): Promise<void> => {
      if (isAgentGrantCurrent(grant, machine) || grantWrittenFrom.behind(grantKey, grantVersion, Date.now()))
        return;
      await writeAgentGrant(deps.client, machine);
      grantWrittenFrom.wrote(grantKey, grantVersion, Date.now());
    };
    const leftPool = leftPoolRolloutStatus(machine, deps.pools.list(), now);
    // The writes are independent (each is computed from the cache), so they go out together, except
    // the Node's two: its label patch carries the resourceVersion, which its own status patch would change.
    const writeNode = async (): Promise<void> => {
      if (!node || nodeCacheBehind) return;
      const written = await syncNode(deps.client, machine, node);
      if (conditionPatch)
        await deps.client.patch(
          builtinTypes.node,
          { name: request.name },
          PatchType.strategicMerge,
          conditionPatch,
          { subresource: 'status' },
        );
      if (written !== node || conditionPatch) nodeWrittenFrom.wrote(request.name, nodeVersion, Date.now());
    };
    // Every write settles before the pass ends, failed or not: a retry begun while one is still in flight
    // would find its cache behind and send that write again.
    const results = await Promise.allSettled([
      writeGrant(),
      writeNode(),
      machineNodeStatusChanged(machine, status)
        ? deps.client.applyStatus(machineType, {
            apiVersion: machineType.apiVersion,
            kind: machineType.kind,
            metadata: { name: request.name },
            status,
          } as MachineObject)
        : undefined,
      leftPool
        ? deps.rolloutStatusClient.applyStatus(machineType, {
            apiVersion: machineType.apiVersion,
            kind: machineType.kind,
            metadata: { name: request.name },
            status: leftPool,
          } as MachineObject)
        : undefined,
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

async function decommission(
  deps: MachineDeps,
  machine: MachineObject,
  node: V1Node | undefined,
): Promise<Result | void> {
  if (!machine.metadata?.finalizers?.includes(Finalizers.machine)) return;
  const name = machine.metadata.name ?? '';
  if (node) await syncNode(deps.client, machine, node);
  const step = planDecommission(machine, node);
  switch (step.kind) {
    case 'drain': {
      const pool = owningPool(machine, deps.pools.list());
      // A Drained condition from an earlier drain is stale: drain as if there were none, so the condition is
      // written anew (with a fresh transition time) once this drain is done.
      const deleted = machine.metadata?.deletionTimestamp ?? new Date(0);
      const stale = (c: Condition) => c.type === MachineConditions.Drained && !changedSince(c, deleted);
      const fresh = {
        ...machine,
        status: { ...machine.status, conditions: machine.status?.conditions?.filter((c) => !stale(c)) },
      };
      const outcome = await deps.drainer.drain(fresh, pool?.spec.drain, deps.now());
      // Drained: the next pass (woken by the condition) goes on.
      return outcome.drained ? undefined : { requeueAfter: DECOMMISSION_POLL_MS };
    }
    case 'awaitAgent':
      return { requeueAfter: DECOMMISSION_POLL_MS };
    case 'deleteNode':
      try {
        await deps.client.delete(builtinTypes.node, { name });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      await deps.events.record(
        machine,
        'Normal',
        'NodeDeleted',
        'Decommission',
        `deleted Node ${name}: the host left`,
      );
      return { requeueAfter: DECOMMISSION_POLL_MS };
    case 'release':
      await revokeAgentGrant(deps.client, name);
      await removeMachineFinalizer(deps.client, machine);
      return;
  }
}

/*
 * The finalizer goes on and off by JSON patch, guarded by the Machine's UID and
 * the finalizer list itself rather than by resourceVersion: a Machine's status
 * changes all the time (agent reports), and a write that has nothing to do with
 * status must not lose every race against them.
 */
async function addMachineFinalizer(client: KubeClient, machine: MachineObject): Promise<void> {
  const uid = { op: 'test', path: '/metadata/uid', value: machine.metadata?.uid } as const;
  const add = machine.metadata?.finalizers
    ? ({ op: 'add', path: '/metadata/finalizers/-', value: Finalizers.machine } as const)
    : ({ op: 'add', path: '/metadata/finalizers', value: [Finalizers.machine] } as const);
  await client.patch(machineType, { name: machine.metadata?.name ?? '' }, PatchType.json, [uid, add]);
}

async function removeMachineFinalizer(client: KubeClient, machine: MachineObject): Promise<void> {
  const index = machine.metadata?.finalizers?.indexOf(Finalizers.machine) ?? -1;
  if (index < 0) return;
  const path = `/metadata/finalizers/${index}`;
  await client.patch(machineType, { name: machine.metadata?.name ?? '' }, PatchType.json, [
    { op: 'test', path, value: Finalizers.machine },
    { op: 'remove', path },
  ]);
}
