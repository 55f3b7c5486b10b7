import { Annotations } from '@kok/api';
import type { Machine } from '@kok/api';
import type { Informer, KubeClient, Reconciler } from '@kok/reconcile';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { machineNodeStatus, machineNodeStatusChanged } from './node-conditions.ts';
import { syncNode } from './node-writer.ts';
import { machineType } from './resources.ts';

type MachineObject = Machine & KubernetesObject;

export interface MachineDeps {
  /** Its field manager owns nodeRef and the Node* conditions of Machine.status. */
  client: KubeClient;
  machines: Informer<MachineObject>;
  nodes: Informer<V1Node>;
  now: () => Date;
}

/**
 * Machine ↔ Node: the Node gets the Machine's labels, taints and cordon (only
 * keys kok owns, recorded on the Node), and the Machine gets status.nodeRef,
 * NodeHealthy and the problem-detector conditions of its Node.
 */
export function machineReconciler(deps: MachineDeps): Reconciler {
  return async (request) => {
    const machine = deps.machines.getByName(undefined, request.name);
    if (!machine || machine.metadata?.annotations?.[Annotations.machinePaused] !== undefined) return;
    const node = deps.nodes.getByName(undefined, request.name);
    const status = machineNodeStatus(machine, node, deps.now());
    // The two writes are independent (the status is read from the Node as cached), so they go out together.
    await Promise.all([
      node ? syncNode(deps.client, machine, node) : undefined,
      machineNodeStatusChanged(machine, status)
        ? deps.client.applyStatus(machineType, {
            apiVersion: machineType.apiVersion,
            kind: machineType.kind,
            metadata: { name: request.name },
            status,
          } as MachineObject)
        : undefined,
    ]);
  };
}
