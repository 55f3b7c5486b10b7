/**
 * `kubectl kok clusterrollout plan`: which Clusters a ClusterRollout (live, or
 * proposed in a file) selects, its waves with their members in order, the
 * bakes and pauses between them, what version each cluster goes to and what
 * the operator starts now. Computed with the operator's own selection and
 * planner (@kok/rollout planClusterRollout) and observation (@kok/api
 * observeCluster), on the Clusters as read. Pure.
 */
import {
  ClusterConditions,
  findCondition,
  observeCluster,
  PAUSED_AFTER_WAVE_ANNOTATION,
  readRecord,
  recordedRolloutUid,
} from '@kok/api';
import type { ClusterRolloutView, ObservedCluster } from '@kok/api';
import {
  clusterPhase,
  clusterRolloutInput,
  matchesSelector,
  planClusterRollout,
  sameComponents,
  selectedClusters,
} from '@kok/rollout';
import type {
  ClusterPhase,
  ClusterRolloutHoldReason,
  ClusterRolloutInput,
  ClusterState,
  ClusterWaveSpec,
  LabelSelector,
} from '@kok/rollout';

export interface ClusterRolloutPlanInput {
  rollout: ClusterRolloutView;
  /** Whether the rollout is the stored object or a proposal from a file. */
  source: 'live' | 'file';
  /** The live rollout finished at its current spec: the operator does nothing more until the spec changes. */
  finished: boolean;
  /** The Clusters and ClusterRollouts of the rollout's namespace. */
  clusters: readonly ObservedCluster[];
  rollouts: readonly ClusterRolloutView[];
  now: number;
}

export interface PlannedCluster {
  cluster: string;
  /** spec.version now. */
  from: string;
  to: string;
  phase: ClusterPhase;
  /** The operator sets spec.version on it at its next look. */
  startsNow: boolean;
  /** Paused Clusters are not started; the rollout waits for them. */
  paused: boolean;
  /**
   * The NodePools' step, when the rollout carries node-pool versions: `after the control plane` until the
   * Cluster has them and its control plane is Available at the version, then `moving` (with the Cluster's
   * NodePoolsUpToDate message) until `up to date`.
   */
  nodePools?: string;
}

export interface PlannedWave {
  index: number;
  name: string;
  /** The last wave, for the clusters no wave of the spec takes. */
  implicit: boolean;
  /** How the spec sizes it: `count 1`, `30%`, `selector tier=canary`, or `the rest`. */
  takes: string;
  state: string;
  /** Seconds the operator waits after the wave finished before the next starts. */
  bakeSeconds: number;
  /** The rollout pauses after this wave until a person resumes it. */
  pauseAfter: boolean;
  clusters: PlannedCluster[];
}

export interface ClusterRolloutPlanView {
  rollout: string;
  namespace: string;
  source: 'live' | 'file';
  version: string;
  /** The node-pool versions the rollout carries, e.g. `kubelet v1.36.4, containerd 2.1.0`. */
  nodePools?: string;
  clusterSelector: string;
  /** Seconds each cluster must stay Available at the version before it counts as updated. */
  bakeSeconds: number;
  maxFailed: number;
  paused: boolean;
  /** Clusters the selector matches that another unfinished rollout holds, with its name. */
  heldElsewhere: { cluster: string; rollout: string }[];
  phase: string;
  currentWave?: number;
  hold?: { reason: ClusterRolloutHoldReason; message: string };
  message: string;
  /** Set when the operator does nothing more with this rollout as it stands. */
  finished?: string;
  waves: PlannedWave[];
  startNow: string[];
}

const FINISHED =
  'the rollout Succeeded at its current spec: the operator moves no cluster until the spec changes';

export function clusterRolloutPlanView(input: ClusterRolloutPlanInput): ClusterRolloutPlanView {
  const { rollout, now } = input;
  const uid = rollout.metadata.uid ?? '';
  const selected = selectedClusters(rollout, input.clusters, input.rollouts, recordedRolloutUid);
  const states = selected.map((cluster) => observeCluster(cluster, uid));
  const plannerInput = clusterRolloutInput(
    rollout.spec,
    rollout.metadata.annotations?.[PAUSED_AFTER_WAVE_ANNOTATION],
    states,
    now,
  );
  const plan = planClusterRollout(plannerInput);
  const byName = new Map<string, ClusterState>(states.map((s) => [s.name, s] as const));
  const objects = new Map(selected.map((c) => [c.metadata.name ?? '', c] as const));
  const starting = new Set(input.finished ? [] : plan.start.map((s) => s.cluster));
  const specs: readonly ClusterWaveSpec[] = plannerInput.waves;

  const waves = plan.waves.map((w, i): PlannedWave => {
    const spec: ClusterWaveSpec | undefined = w.index < specs.length ? specs[w.index] : undefined;
    return {
      index: w.index,
      name: w.name,
      implicit: spec === undefined,
      takes: spec === undefined ? 'the rest' : waveSize(spec),
      state: w.state,
      bakeSeconds: spec?.bakeSeconds ?? 0,
      // The planner ignores pauseAfter on the last wave.
      pauseAfter: spec?.pauseAfter === true && i < plan.waves.length - 1,
      clusters: w.members.map((name) => {
        const state = byName.get(name) as ClusterState;
        return {
          cluster: name,
          from: state.version,
          to: plannerInput.version,
          phase: clusterPhase(state, plannerInput),
          startsNow: starting.has(name),
          paused: state.paused === true,
          ...poolStep(state, objects.get(name), plannerInput),
        };
      }),
    };
  });

  const namesOf = new Map(input.rollouts.map((r) => [r.metadata.uid ?? '', r.metadata.name ?? ''] as const));
  const selectedNames = new Set(selected.map((c) => c.metadata.name));
  const heldElsewhere = input.clusters
    .filter(
      (c) =>
        !c.metadata.deletionTimestamp &&
        !selectedNames.has(c.metadata.name) &&
        matchesSelector(c.metadata.labels ?? {}, rollout.spec.clusterSelector),
    )
    .map((c) => ({
      cluster: c.metadata.name ?? '',
      rollout: namesOf.get(readRecord(c.metadata.annotations)?.uid ?? '') ?? '',
    }))
    .sort((a, b) => (a.cluster < b.cluster ? -1 : 1));

  return {
    rollout: rollout.metadata.name ?? '',
    namespace: rollout.metadata.namespace ?? '',
    source: input.source,
    version: plannerInput.version,
    ...(plannerInput.nodePools
      ? { nodePools: plannerInput.nodePools.map((c) => `${c.name} ${c.version}`).join(', ') }
      : {}),
    clusterSelector: selectorText(rollout.spec.clusterSelector),
    bakeSeconds: plannerInput.bakeSeconds,
    maxFailed: plannerInput.maxFailed,
    paused: plannerInput.paused,
    heldElsewhere,
    // A finished rollout stays Succeeded whatever its clusters do since: the operator no longer plans it.
    ...(input.finished
      ? {
          phase: 'Succeeded',
          message: FINISHED,
          finished: FINISHED,
        }
      : {
          phase: plan.phase,
          ...(plan.currentWave === undefined ? {} : { currentWave: plan.currentWave }),
          ...(plan.hold ? { hold: plan.hold } : {}),
          message: plan.message,
        }),
    waves,
    startNow: [...starting],
  };
}

function poolStep(
  state: ClusterState,
  cluster: ObservedCluster | undefined,
  input: ClusterRolloutInput,
): Pick<PlannedCluster, 'nodePools'> {
  if (!input.nodePools) return {};
  const phase = clusterPhase(state, input);
  if (phase === 'Failed') return { nodePools: '-' };
  if (
    phase === 'Pending' ||
    state.availableSince === undefined ||
    !sameComponents(state.nodePools, input.nodePools)
  )
    return { nodePools: 'after the control plane' };
  if (state.nodePoolsUpToDateSince !== undefined) return { nodePools: 'up to date' };
  const message = findCondition(cluster?.status?.conditions, ClusterConditions.NodePoolsUpToDate)?.message;
  return { nodePools: message ? `moving: ${message}` : 'moving' };
}

function waveSize(spec: ClusterWaveSpec): string {
  if (spec.selector) return `selector ${selectorText(spec.selector)}`;
  if (spec.count !== undefined) return `up to ${spec.count} in all`;
  return `up to ${spec.percent ?? 100}% in all`;
}

/** A label selector as kubectl writes one: `tier=prod,zone in (a,b),!legacy`; `<all>` when empty. */
export function selectorText(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(selector.matchExpressions ?? []).map(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return `${key} in (${values.join(',')})`;
        case 'NotIn':
          return `${key} notin (${values.join(',')})`;
        case 'Exists':
          return key;
        case 'DoesNotExist':
          return `!${key}`;
      }
    }),
  ];
  return parts.length === 0 ? '<all>' : parts.join(',');
}
