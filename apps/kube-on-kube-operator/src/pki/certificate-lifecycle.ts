/**
 * The certificate lifecycle of one Cluster in a reconcile: which CA rotation
 * phase the PKI is written at (ca-rotation.ts decides, from the CA Secrets'
 * annotations and whether every consumer runs with the current material),
 * the PKI material for it (pki-material.ts, which also renews due leaves),
 * and what the status and Events say about it.
 *
 * Consumers roll because each pod template carries a hash of the Secrets it
 * mounts; the gates (gate-plan.ts) roll them in bring-up order: etcd, then
 * the apiserver, then controller-manager and scheduler.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ClusterConditions, metaTime, setCondition } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import type { EventRecorder } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { CaRotationPlan, CaRotationState } from './ca-rotation.ts';
import { isRotating, planCaRotation } from './ca-rotation.ts';
import type { PkiSpec } from './certificates.ts';
import type { ControlPlaneComponent, RenderContext } from '../components/component.ts';
import type { PkiMaterial, PkiOptions } from './pki-material.ts';
import { caRotationStateOf, ensurePki } from './pki-material.ts';
import type { ClusterObject } from '../resource-types.ts';

export interface CertificateInputs {
  cluster: ClusterObject;
  specs: readonly PkiSpec[];
  /** The Cluster's Secrets by name, from the cache. */
  existing: ReadonlyMap<string, V1Secret>;
  options: Omit<PkiOptions, 'caRotation' | 'now'>;
  now: Date;
  /** A rolled-back operation holds the cluster: no rotation phase begins. */
  held: boolean;
  /** Whether every consumer runs with `material` (isSettled, against the caches). */
  settled: (material: PkiMaterial) => boolean;
}

export interface CertificateReport {
  material: PkiMaterial;
  rotation: CaRotationPlan;
}

export async function ensureCertificates(inputs: CertificateInputs): Promise<CertificateReport> {
  const { cluster, specs, existing, now } = inputs;
  const cas = specs.flatMap((spec) => {
    const secret = spec.kind === 'ca' ? existing.get(spec.secretName) : undefined;
    return secret ? [caRotationStateOf(secret)] : [];
  });
  const desiredGeneration = cluster.spec?.certificates?.caRotationGeneration ?? 0;
  const waiting = planCaRotation({ desiredGeneration, cas, settled: false });
  const at = (caRotation: CaRotationState) =>
    ensurePki(specs, existing, { ...inputs.options, caRotation, now });
  const material = await at(waiting.target);
  const moving = planCaRotation({ desiredGeneration, cas, settled: true });
  // The next phase begins only once every consumer runs with the material of this one.
  if (!moving.advanced || inputs.held || !inputs.settled(material)) return { material, rotation: waiting };
  return { material: await at(moving.target), rotation: moving };
}

/**
 * True when every component renders, needs no write and is Available at the
 * desired version. Components that run only when they can (the node tier)
 * count once their workload exists.
 */
export function isSettled(
  context: RenderContext,
  required: readonly ControlPlaneComponent[],
  ifPresent: readonly ControlPlaneComponent[],
  observe: (desired: KubernetesObject) => KubernetesObject | undefined,
): boolean {
  const runsAsDesired = (component: ControlPlaneComponent, optional: boolean) => {
    const desired = component.render(context);
    if (!desired) return optional;
    const observed = desired.map(observe);
    if (optional && observed.every((o) => o === undefined)) return true;
    return (
      !desired.some((d, i) => component.needsUpdate(observed[i], d)) &&
      component.status(observed, desired, context).availableAtDesired
    );
  };
  return required.every((c) => runsAsDesired(c, false)) && ifPresent.every((c) => runsAsDesired(c, true));
}

const EVENT_REASONS: Record<CaRotationState['phase'], string> = {
  TrustingNewCA: 'CARotationStarted',
  ReissuingLeaves: 'CARotationReissuing',
  RemovingOldCA: 'CARotationRemovingOldCA',
  Completed: 'CARotationCompleted',
};

const PHASE_MESSAGES: Record<CaRotationState['phase'], string> = {
  TrustingNewCA: 'new CAs made; every trust bundle holds the old and the new CA; consumers roll',
  ReissuingLeaves: 'the new CAs sign; every leaf certificate and kubeconfig is reissued; consumers roll',
  RemovingOldCA: 'the old CAs leave every trust bundle; consumers roll',
  Completed: 'every consumer runs with leaves and trust bundles of the new CAs only',
};

/** Events for a phase that began and for leaves renewed; call once the PKI is written. */
export async function recordCertificateEvents(
  events: EventRecorder | undefined,
  cluster: ClusterObject,
  report: CertificateReport,
  log: Logger,
): Promise<void> {
  const { rotation, material } = report;
  if (rotation.advanced) {
    const { generation, phase } = rotation.target;
    log.info({ generation, phase }, 'CA rotation phase');
    await events?.record(
      cluster,
      'Normal',
      EVENT_REASONS[phase],
      'RotateCA',
      `CA rotation ${generation}: ${phase}: ${PHASE_MESSAGES[phase]}`,
    );
  }
  const renewed = material.renewed ?? [];
  if (renewed.length > 0) {
    log.info({ secrets: renewed }, 'leaf certificates renewed');
    await events?.record(
      cluster,
      'Normal',
      'CertificatesRenewed',
      'Renew',
      `renewed before expiry: ${renewed.join(', ')}; their consumers roll`,
    );
  }
}

/** status.certificates and the CertificatesRotating condition, on top of the rest of the status. */
export function withCertificates(
  status: ClusterStatus,
  previous: ClusterStatus | undefined,
  report: CertificateReport,
  generation: number,
  now: Date,
): ClusterStatus {
  const { material, rotation } = report;
  const { target } = rotation;
  const before = previous?.certificates?.caRotation;
  const unchanged = before?.generation === target.generation && before.phase === target.phase;
  const certificates: NonNullable<ClusterStatus['certificates']> = {
    notAfter: metaTime(material.notAfter),
    ...(material.caNotAfter ? { caNotAfter: metaTime(material.caNotAfter) } : {}),
    ...(material.renewalTime ? { renewalTime: metaTime(material.renewalTime) } : {}),
    ...(target.generation > 0
      ? {
          caRotation: {
            generation: target.generation,
            phase: target.phase,
            lastTransitionTime: unchanged ? (before.lastTransitionTime ?? metaTime(now)) : metaTime(now),
          },
        }
      : {}),
  };
  const rotating = isRotating(target);
  const conditions = setCondition(
    status.conditions,
    {
      type: ClusterConditions.CertificatesRotating,
      status: rotating || rotation.waiting ? 'True' : 'False',
      reason: rotating ? target.phase : rotation.waiting ? 'Waiting' : 'AsDesired',
      message:
        rotation.waiting ??
        (rotating
          ? `CA rotation ${target.generation}: ${PHASE_MESSAGES[target.phase]}`
          : target.generation > 0
            ? `CA rotation ${target.generation} completed`
            : 'no CA rotation asked for'),
      observedGeneration: generation,
    },
    now,
  );
  return { ...status, certificates, conditions };
}
