import type { Machine } from '@kok/api';
import { isConflict, isNotFound, resourcePath } from '@kok/reconcile';
import type {
  EventRecorder,
  IndexFunc,
  Informer,
  KubeClient,
  Predicate,
  Reconciler,
  Request,
} from '@kok/reconcile';
import type { KubernetesObject, V1CertificateSigningRequest } from '@kubernetes/client-node';
import { certificateSigningRequestType } from './resources.ts';
import {
  APPROVED_REASON,
  decideServingCsr,
  DENIED_REASON,
  isDecided,
  servingCsrNodeName,
} from './serving-csr-approval.ts';

type MachineObject = Machine & KubernetesObject;

/** Index of the CSR cache: the node that requested a CSR still pending. */
export const PENDING_BY_NODE_INDEX = 'pendingByNode';

export const servingCsrIndexers: Record<string, IndexFunc<V1CertificateSigningRequest>> = {
  [PENDING_BY_NODE_INDEX]: (csr) => {
    const node = servingCsrNodeName(csr);
    return node !== undefined && !isDecided(csr) ? [node] : [];
  },
};

/** The pending CSRs a Machine event may settle: those its node requested (the cache needs servingCsrIndexers). */
export function pendingServingCsrsOf(
  csrs: Informer<V1CertificateSigningRequest>,
  machine: MachineObject,
): Request[] {
  const name = machine.metadata?.name;
  return name
    ? csrs.byIndex(PENDING_BY_NODE_INDEX, name).map((csr) => ({ name: csr.metadata?.name ?? '' }))
    : [];
}

/**
 * Machine events that can change a decision: the Machine appears, its address
 * changes or its deletion starts. Status writes, heartbeats and removal do not.
 */
export const machineChangedForServingCsr: Predicate<MachineObject> = {
  create: () => true,
  update: (oldMachine, machine) =>
    oldMachine.spec?.address !== machine.spec?.address ||
    !oldMachine.metadata?.deletionTimestamp !== !machine.metadata?.deletionTimestamp,
  delete: () => false,
};

export interface ServingCsrDeps {
  client: KubeClient;
  /** Kubelet-serving CSRs (the informer may select them by signer), indexed by servingCsrIndexers. */
  csrs: Informer<V1CertificateSigningRequest>;
  machines: Informer<MachineObject>;
  events: EventRecorder;
  /** The Machine cache holds only some Machines (a label selector): CSRs of the others are left alone. */
  partialMachineView: boolean;
}

/**
 * Approves a kubelet serving CSR that matches its Machine and denies one that
 * does not (serving-csr-approval.ts decides), through the approval
 * subresource. A denial is also a Warning Event on the Machine (on the CSR
 * when there is no Machine): someone asked for a certificate this host should
 * not have.
 */
export function servingCsrReconciler(deps: ServingCsrDeps): Reconciler {
  return async (request, ctx) => {
    const csr = deps.csrs.getByName(undefined, request.name);
    if (!csr) return;
    const node = servingCsrNodeName(csr);
    const machine = node === undefined ? undefined : deps.machines.getByName(undefined, node);
    const decision = decideServingCsr(csr, machine, { partialMachineView: deps.partialMachineView });
    if (decision.verdict === 'ignore') return;

    const approve = decision.verdict === 'approve';
    try {
      await deps.client.request(
        'PUT',
        resourcePath(certificateSigningRequestType, { name: request.name, subresource: 'approval' }),
        {
          body: withCondition(csr, {
            type: approve ? 'Approved' : 'Denied',
            status: 'True',
            reason: approve ? APPROVED_REASON : DENIED_REASON,
            message: decision.message,
          }),
        },
      );
    } catch (error) {
      // Conflict: the CSR changed, and its newer version, on its way to the cache, enqueues it again.
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    ctx.log.info({ csr: request.name, node, verdict: decision.verdict }, decision.message);
    if (!approve)
      await deps.events.record(
        machine ?? csr,
        'Warning',
        DENIED_REASON,
        'DenyServingCertificate',
        `CSR ${request.name}: ${decision.message}`,
      );
  };
}

interface ApprovalCondition {
  type: 'Approved' | 'Denied';
  status: 'True';
  reason: string;
  message: string;
}

/**
 * The body of PUT …/approval: the CSR as cached (its resourceVersion makes the
 * write conditional) with one more condition; the apiserver keeps spec and
 * takes only the conditions, and stamps their times.
 */
function withCondition(csr: V1CertificateSigningRequest, condition: ApprovalCondition): KubernetesObject {
  return {
    apiVersion: certificateSigningRequestType.apiVersion,
    kind: certificateSigningRequestType.kind,
    metadata: {
      name: csr.metadata?.name,
      uid: csr.metadata?.uid,
      resourceVersion: csr.metadata?.resourceVersion,
    },
    spec: csr.spec,
    status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] },
  } as KubernetesObject;
}
