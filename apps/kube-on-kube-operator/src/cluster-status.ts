/**
 * The Cluster's status, computed from the previous one and what was observed.
 * Pure: timestamps move only on transitions, so an unchanged world yields an
 * identical status and no write.
 */
import { ClusterConditions, metaTime, setCondition } from '@kok/api';
import type { ClusterStatus, Condition, GatePlan } from '@kok/api';
import type { ResolvedCluster } from './cluster-spec.ts';
import type { ComponentName, ComponentStatus } from './components/component.ts';
import type { GateRecord } from './gate-records.ts';
import { nextGateRecords } from './gate-records.ts';
import { KUBECONFIG_KEY } from './pki/pki-material.ts';

export interface ComponentReport {
  name: ComponentName;
  /** The condition it reports, for gated components. */
  condition?: string;
  status: ComponentStatus;
  /** Some object of it had to be written when this reconcile began. */
  needsWrite: boolean;
}

export interface StatusInputs {
  previous: ClusterStatus | undefined;
  generation: number;
  cluster: ResolvedCluster;
  /** In bring-up order. */
  reports: readonly ComponentReport[];
  plan: GatePlan;
  endpoint: string;
  kubeconfigSecretName: string;
  certificatesNotAfter?: Date;
  /** Why writing failed in this reconcile, if it did. */
  applyError?: string;
  /**
   * The operation stopped: a component missed its progress deadline and was
   * rolled back. Degraded with this reason; nothing progresses until the spec changes.
   */
  halted?: { reason: string; message: string };
  now: Date;
}

export type OperationType = 'Create' | 'Upgrade' | 'Update';

export interface StatusResult {
  status: ClusterStatus;
  operation: OperationType;
  /** Gates that passed in this reconcile. */
  completedGates: GateRecord[];
}

/** History entries kept in status.version.history. */
const HISTORY_LIMIT = 10;

const statusKeys: Partial<Record<ComponentName, keyof NonNullable<ClusterStatus['components']>>> = {
  etcd: 'etcd',
  apiServer: 'apiServer',
  controllerManager: 'controllerManager',
  scheduler: 'scheduler',
};

function operationType(previous: ClusterStatus | undefined, cluster: ResolvedCluster): OperationType {
  const current = previous?.version?.current;
  if (!current) return 'Create';
  return current === cluster.version ? 'Update' : 'Upgrade';
}

export function nextClusterStatus(inputs: StatusInputs): StatusResult {
  const { previous, generation, cluster, reports, plan, now } = inputs;
  const previousOperation = previous?.lastOperation;
  // A new operation begins when the spec changed and something has to be written for it;
  // a restarted operator continues the one in progress (same generation).
  const isNewOperation =
    !previousOperation || (previous?.observedGeneration !== generation && reports.some((r) => r.needsWrite));
  const operation = isNewOperation
    ? operationType(previous, cluster)
    : ((previousOperation.type as OperationType | undefined) ?? 'Update');
  const startedAt = isNewOperation ? metaTime(now) : (previousOperation.startedAt ?? metaTime(now));

  const gated = reports.filter((r) => r.condition);
  const { gates, completed } = nextGateRecords(
    isNewOperation ? [] : (previous?.gates ?? []),
    gated.map((r) => ({
      gate: r.condition ?? r.name,
      open: plan.open.includes(r.name),
      availableAtDesired: r.status.availableAtDesired,
    })),
    now,
  );

  const serving = gated.every((r) => r.status.available);
  const { halted } = inputs;
  const progressing = !plan.complete && !halted;
  const degraded = inputs.applyError !== undefined || halted !== undefined || (plan.complete && !serving);

  let conditions: Condition[] = previous?.conditions ?? [];
  const set = (type: string, status: boolean, reason: string, message: string) => {
    conditions = setCondition(
      conditions,
      { type, status: status ? 'True' : 'False', reason, message, observedGeneration: generation },
      now,
    );
  };
  for (const r of gated)
    set(r.condition ?? r.name, r.status.availableAtDesired, r.status.reason, r.status.message);
  const notServing = gated.filter((r) => !r.status.available).map((r) => r.condition);
  set(
    ClusterConditions.Available,
    serving,
    serving ? 'ControlPlaneServing' : 'ComponentsUnavailable',
    serving
      ? cluster.etcd.external
        ? 'every master component has its required replicas Ready (etcd is external)'
        : 'etcd has quorum and every master component has its required replicas Ready'
      : `not serving: ${notServing.join(', ')}`,
  );
  const firstWaiting = reports.find((r) => !r.status.availableAtDesired);
  set(
    ClusterConditions.Progressing,
    progressing,
    halted ? halted.reason : progressing ? `${operation}InProgress` : 'AsDesired',
    halted
      ? halted.message
      : progressing
        ? (firstWaiting?.status.message ?? 'rolling out')
        : `every component runs as desired at ${cluster.version}`,
  );
  set(
    ClusterConditions.Degraded,
    degraded,
    halted
      ? halted.reason
      : inputs.applyError !== undefined
        ? 'ApplyFailed'
        : degraded
          ? 'ComponentsUnavailable'
          : 'AsExpected',
    halted?.message ?? inputs.applyError ?? (degraded ? `not serving: ${notServing.join(', ')}` : ''),
  );

  // Version: current moves only once every component runs the desired one.
  const history = [...(previous?.version?.history ?? [])];
  if (isNewOperation && history[0]?.version !== cluster.version)
    history.unshift({ version: cluster.version, state: 'Partial', startedTime: metaTime(now) });
  const head = history[0];
  if (plan.complete && head?.version === cluster.version && head.state === 'Partial')
    history[0] = { ...head, state: 'Completed', completionTime: metaTime(now) };
  const current = plan.complete ? cluster.version : previous?.version?.current;

  const availableCount = reports.filter((r) => r.status.availableAtDesired).length;
  const wasFinished = !isNewOperation && previousOperation?.state === 'Succeeded';
  const lastOperation: NonNullable<ClusterStatus['lastOperation']> = {
    type: operation,
    state: plan.complete ? 'Succeeded' : halted ? 'Failed' : 'Processing',
    progress: Math.round((100 * availableCount) / Math.max(1, reports.length)),
    message:
      halted?.message ??
      inputs.applyError ??
      (plan.complete ? `control plane at ${cluster.version}` : (firstWaiting?.status.message ?? '')),
    startedAt,
    ...(plan.complete
      ? { finishedAt: wasFinished ? (previousOperation?.finishedAt ?? metaTime(now)) : metaTime(now) }
      : {}),
  };

  const components: NonNullable<ClusterStatus['components']> = {};
  for (const r of reports) {
    const key = statusKeys[r.name];
    // An external etcd has no pods here to count.
    if (!key || (r.name === 'etcd' && cluster.etcd.external)) continue;
    components[key] = {
      ...(r.status.replicas === undefined ? {} : { replicas: r.status.replicas }),
      ...(r.status.ready === undefined ? {} : { ready: r.status.ready }),
      ...(r.status.version === undefined ? {} : { version: r.status.version }),
    };
  }

  const phase: NonNullable<ClusterStatus['phase']> = degraded
    ? 'Degraded'
    : progressing
      ? operation === 'Create'
        ? 'Provisioning'
        : 'Upgrading'
      : 'Ready';

  const status: ClusterStatus = {
    observedGeneration: generation,
    phase,
    version: {
      desired: cluster.version,
      ...(current ? { current } : {}),
      history: history.slice(0, HISTORY_LIMIT),
    },
    endpoint: inputs.endpoint,
    kubeconfigSecretRef: { name: inputs.kubeconfigSecretName, key: KUBECONFIG_KEY },
    components,
    ...(inputs.certificatesNotAfter
      ? { certificates: { notAfter: metaTime(inputs.certificatesNotAfter) } }
      : {}),
    gates,
    conditions,
    lastOperation,
  };
  return { status, operation, completedGates: completed };
}
