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
import type { KubernetesObject, V1CertificateSigningRequest, V1ObjectMeta } from '@kubernetes/client-node';
import type { CsrDecision, DecisionOptions } from './csr-decision.ts';
import { isDecided } from './csr-request.ts';
import { certificateSigningRequestType } from '../shared/resources.ts';
import type { MachineObject } from '@kok/api';

/**
 * One kind of certificate the operator approves for a Machine: the signer
 * whose CSRs it watches, how a CSR names its Machine, the pure decision, and
 * the reasons it writes.
 */
export interface CsrApprovalPolicy {
  signer: string;
  /** The Machine a CSR is for, if the policy has a say on it. */
  machineOf(csr: V1CertificateSigningRequest): string | undefined;
  decide(
    csr: V1CertificateSigningRequest,
    machine: MachineObject | undefined,
    options: DecisionOptions,
  ): CsrDecision;
  approvedReason: string;
  deniedReason: string;
  /** The Event action of a denial, e.g. DenyServingCertificate. */
  deniedAction: string;
}

/** Index of the CSR cache: the Machine a pending CSR is for. */
export const PENDING_BY_MACHINE_INDEX = 'pendingByMachine';

export function pendingCsrIndexers(
  policy: CsrApprovalPolicy,
): Record<string, IndexFunc<V1CertificateSigningRequest>> {
  return {
    [PENDING_BY_MACHINE_INDEX]: (csr) => {
      const machine = policy.machineOf(csr);
      return machine !== undefined && !isDecided(csr) ? [machine] : [];
    },
  };
}

/** The pending CSRs a Machine event may settle (the cache needs pendingCsrIndexers). */
export function pendingCsrsOf(
  csrs: Informer<V1CertificateSigningRequest>,
  machine: MachineObject,
): Request[] {
  const name = machine.metadata?.name;
  return name
    ? csrs.byIndex(PENDING_BY_MACHINE_INDEX, name).map((csr) => ({ name: csr.metadata?.name ?? '' }))
    : [];
}

/**
 * Machine events that can change a decision: the Machine appears, its address
 * changes or its deletion starts. Status writes, heartbeats and removal do not.
 */
export const machineChangedForCsr: Predicate<MachineObject> = {
  create: () => true,
  update: (oldMachine, machine) =>
    oldMachine.spec?.address !== machine.spec?.address ||
    !oldMachine.metadata?.deletionTimestamp !== !machine.metadata?.deletionTimestamp,
  delete: () => false,
};

export interface CsrApprovalDeps {
  client: KubeClient;
  policy: CsrApprovalPolicy;
  /** CSRs of the policy's signer (the informer may select them by signer), indexed by pendingCsrIndexers. */
  csrs: Informer<V1CertificateSigningRequest>;
  machines: Informer<MachineObject>;
  events: EventRecorder;
  /** The Machine cache holds only some Machines (a label selector): CSRs of the others are left alone. */
  partialMachineView: boolean;
}

/**
 * Approves a CSR that its policy approves and denies one it denies, through
 * the approval subresource. A denial is also a Warning Event on the Machine
 * (on the CSR when there is no Machine): someone asked for a certificate this
 * host should not have.
 */
export function csrApprovalReconciler(deps: CsrApprovalDeps): Reconciler {
  const { policy } = deps;
  return async (request, ctx) => {
    const csr = deps.csrs.getByName(undefined, request.name);
    if (!csr) return;
    const machineName = policy.machineOf(csr);
    const machine = machineName === undefined ? undefined : deps.machines.getByName(undefined, machineName);
    const decision = policy.decide(csr, machine, { partialMachineView: deps.partialMachineView });
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
            reason: approve ? policy.approvedReason : policy.deniedReason,
            message: decision.message,
          }),
        },
      );
    } catch (error) {
      // Conflict: the CSR changed, and its newer version, on its way to the cache, enqueues it again.
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    ctx.log.info(
      { csr: request.name, signer: policy.signer, machine: machineName, verdict: decision.verdict },
      decision.message,
    );
    if (!approve)
      await deps.events.record(
        machine ?? csr,
        'Warning',
        policy.deniedReason,
        policy.deniedAction,
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
 * takes the conditions (and metadata), and stamps their times.
 */
function withCondition(csr: V1CertificateSigningRequest, condition: ApprovalCondition): KubernetesObject {
  return {
    apiVersion: certificateSigningRequestType.apiVersion,
    kind: certificateSigningRequestType.kind,
    // All of it: the approval subresource writes metadata too, and would drop labels left out here.
    metadata: withoutManagedFields(csr.metadata),
    spec: csr.spec,
    status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] },
  } as KubernetesObject;
}

function withoutManagedFields(metadata: V1CertificateSigningRequest['metadata']): V1ObjectMeta {
  const { managedFields: _managedFields, ...rest } = metadata ?? {};
  return rest;
}
