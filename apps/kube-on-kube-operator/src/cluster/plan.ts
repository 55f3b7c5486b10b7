/**
 * One pass over a Cluster that its guards let through, decided: render every
 * component in bring-up order against what was observed, refuse names that
 * something else controls, open the gates (libs/api gate-plan.ts), roll back
 * a component that missed its progress deadline, and list the writes the open
 * gates allow. Pure; one time value per pass.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { planGates } from '@kok/api';
import type { ClusterStatus, ComponentObservation, GatePlan } from '@kok/api';
import { controllerReference } from '@kok/reconcile';
import type { ComponentStatus, ControlPlaneComponent, RenderContext } from '../components/component.ts';
import { foreignObjectOf } from '../foreign-objects.ts';
import { isAdoptableSecret } from '../pki/pki-guard.ts';
import type { CertificateReport } from '../pki/certificate-lifecycle.ts';
import type { PkiMaterial } from '../pki/pki-material.ts';
import {
  expiredGate,
  PROGRESS_DEADLINE_EXCEEDED,
  progressDeadlineMs,
  rollbackObject,
  rolledBackHold,
  withLastAvailable,
} from '../rollback.ts';
import type { Hold } from './guards.ts';
import { nameConflictHold } from './guards.ts';
import type { ObservedCluster } from './observe.ts';

export interface PlanInputs extends ObservedCluster {
  /** In bring-up order (components/bring-up-order.ts). */
  components: readonly ControlPlaneComponent[];
  /** The operator's progress deadline; the Cluster's annotation overrides it. */
  progressDeadlineMs: number;
  /** The PKI material of this pass, once the PKI can be made. */
  certificates?: CertificateReport;
  /** status.pki after this pass (guards.ts). */
  pkiFingerprints: ClusterStatus['pki'];
}

export interface RenderedComponent {
  component: ControlPlaneComponent;
  /** Undefined while an input it needs does not exist yet. */
  desired: KubernetesObject[] | undefined;
  /** Those of `desired` whose live object must be rewritten. */
  stale: KubernetesObject[];
  status: ComponentStatus;
}

/** A write guarded by what the decision was made on: created when `observed` is undefined, else applied at its resourceVersion. */
export interface ObjectWrite {
  desired: KubernetesObject;
  observed: KubernetesObject | undefined;
}

export interface ComponentWrites {
  component: ControlPlaneComponent;
  objects: ObjectWrite[];
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  message: string;
}

/** Why nothing progresses until the spec changes. */
export interface Halt {
  reason: string;
  message: string;
}

export interface ProgressPlan {
  kind: 'progress';
  context: RenderContext;
  rendered: RenderedComponent[];
  gates: GatePlan;
  /** Effective progress deadline of this Cluster. */
  deadlineMs: number;
  /** Workloads put back to their last Available revision, written before anything else. */
  rollbacks: ObjectWrite[];
  /** In bring-up order, only what the open gates allow; none while halted. */
  writes: ComponentWrites[];
  /** Events of this pass's decisions (a rollback, a deadline with nothing to roll back to). */
  events: PlannedEvent[];
  /** A component missed its progress deadline (this pass or before). */
  halted?: Halt;
  /** The desired version differs from the one the Cluster runs. */
  upgrading: boolean;
}

export type ClusterPlan = { kind: 'hold'; hold: Hold } | ProgressPlan;

/** What every component renders from: the observed Cluster and, once it can be made, the PKI. */
export function renderContextOf(observed: ObservedCluster, pki: PkiMaterial | undefined): RenderContext {
  const { cluster, resolved, names, endpoint, externalEtcdSecret } = observed;
  return {
    cluster: resolved,
    names,
    owner: controllerReference(cluster),
    endpoint,
    pki,
    imageDigests: observed.imageDigests,
    ...(externalEtcdSecret ? { externalEtcdSecret } : {}),
    ...(observed.etcdMembership ? { etcdMembership: observed.etcdMembership } : {}),
  };
}

export function planCluster(inputs: PlanInputs, at: Date): ClusterPlan {
  const { cluster, resolved, live, components, certificates } = inputs;
  // Cached objects may lack their kind: the desired one says it.
  const unclaimedSecretOfOurs = (desired: KubernetesObject, found: KubernetesObject | undefined) =>
    desired.kind === 'Secret' && found !== undefined && isAdoptableSecret(found, cluster.metadata.name ?? '');
  const generation = cluster.metadata.generation ?? 0;
  const context = renderContextOf(inputs, certificates?.material);
  const rendered = components.map((component): RenderedComponent => {
    const desired = component.render(context);
    const observed = (desired ?? []).map(live);
    const status: ComponentStatus = desired
      ? component.status(observed, desired, context)
      : {
          available: false,
          availableAtDesired: false,
          reason: 'WaitingForInputs',
          message: `${component.name} waits for the Services and PKI`,
        };
    // A restored Secret of ours that nothing controls (an etcd join Secret from a backup) is written
    // over even when its hash matches: it is made this Cluster's, and says what this pass wants.
    const stale = (desired ?? []).filter(
      (d, i) => component.needsUpdate(observed[i], d) || unclaimedSecretOfOurs(d, observed[i]),
    );
    return { component, desired, stale, status };
  });

  // An object of a derived name that this Cluster does not control is neither adopted nor overwritten,
  // except a Secret labelled as ours that nothing controls (apply.ts judges it alike).
  const uid = cluster.metadata.uid ?? '';
  const taken = rendered.flatMap((r) =>
    (r.desired ?? []).flatMap((d) => {
      const found = live(d);
      return unclaimedSecretOfOurs(d, found) ? [] : (foreignObjectOf(d.kind ?? '', found, uid) ?? []);
    }),
  );
  const nodeOperatorTaken =
    inputs.nodeTier && foreignObjectOf('Deployment', inputs.nodeTier.nodeOperatorDeployment, uid);
  if (nodeOperatorTaken) taken.push(nodeOperatorTaken);
  if (taken.length > 0) return { kind: 'hold', hold: nameConflictHold(cluster, taken, at) };

  const observations: ComponentObservation[] = rendered.map((r) => ({
    name: r.component.name,
    dependsOn: r.component.dependsOn,
    rendered: r.desired !== undefined,
    needsWrite: r.stale.length > 0,
    availableAtDesired: r.status.availableAtDesired,
  }));
  const gates = planGates(observations);

  // A rolled-back operation holds until the spec changes; otherwise a gate past its deadline rolls back.
  let halted: Halt | undefined = rolledBackHold(cluster.status, generation);
  const deadlineMs = progressDeadlineMs(cluster, inputs.progressDeadlineMs);
  const expired =
    halted || cluster.status?.observedGeneration !== generation
      ? undefined
      : expiredGate(
          cluster.status?.gates ?? [],
          rendered.flatMap((r) =>
            r.component.condition
              ? [
                  {
                    gate: r.component.condition,
                    open: gates.open.includes(r.component.name),
                    availableAtDesired: r.status.availableAtDesired,
                  },
                ]
              : [],
          ),
          deadlineMs,
          at,
        );
  const late = expired && rendered.find((r) => r.component.condition === expired.gate);
  const rollbacks: ObjectWrite[] = [];
  const events: PlannedEvent[] = [];
  if (late) {
    for (const d of late.desired ?? []) {
      const back = rollbackObject(d, live(d));
      if (back) rollbacks.push({ desired: back, observed: live(back) });
    }
    const what = `${late.component.name} did not become Available at ${resolved.version} within ${deadlineMs / 1000} s (${late.status.message})`;
    if (rollbacks.length > 0) {
      halted = {
        reason: PROGRESS_DEADLINE_EXCEEDED,
        message: `${what}: rolled back to its last Available revision; no further step until the spec changes`,
      };
      events.push({ type: 'Warning', reason: 'RolledBack', action: 'Rollback', message: halted.message });
    } else {
      events.push({
        type: 'Warning',
        reason: PROGRESS_DEADLINE_EXCEEDED,
        action: 'Wait',
        message: `${what}: it has no earlier Available revision to roll back to; still waiting`,
      });
    }
  }

  // What the open gates allow, in order; each write carries the last Available revision.
  const writes: ComponentWrites[] = halted
    ? []
    : rendered
        .filter((r) => gates.apply.includes(r.component.name) && r.stale.length > 0)
        .map((r) => ({
          component: r.component,
          objects: r.stale.map((obj) => {
            const observed = live(obj);
            return { desired: withLastAvailable(obj, observed), observed };
          }),
        }));

  return {
    kind: 'progress',
    context,
    rendered,
    gates,
    deadlineMs,
    rollbacks,
    writes,
    events,
    ...(halted ? { halted } : {}),
    upgrading: (cluster.status?.version?.current ?? resolved.version) !== resolved.version,
  };
}
