/**
 * `kubectl kok why machine|nodepool|cluster`: what holds an object, in the
 * sentences the operators wrote into its status (Machine status.waitingFor,
 * NodePool and Cluster conditions), plus what the plugin observes itself: an
 * agent whose heartbeat is old. Pure: objects and the time in, an answer out.
 */
import {
  Annotations,
  ClusterConditions,
  findCondition,
  MachineConditions,
  NodePoolConditions,
} from '@kok/api';
import type { Cluster, Machine, NodePool } from '@kok/api';
import { describeWaitReason, isNodePoolMember, listNames } from '@kok/rollout';
import { machineProgress } from './machine-progress.ts';

export interface WhyReason {
  /** One CamelCase word: a waitingFor reason, or the reason of the condition quoted. */
  reason: string;
  /** One or two sentences: what holds it and what a person can do. */
  message: string;
  /** Since when, where the status says. */
  since?: string;
}

export interface WhyAnswer {
  /** `Machine "w-1"`, `NodePool "workers"`, `Cluster "fleet/prod"`. */
  object: string;
  /** Where it stands, in one line. */
  summary: string;
  /** What holds it, the most direct first; empty when nothing does. */
  reasons: WhyReason[];
}

/**
 * The interval the plugin assumes an agent writes its status at: the agent's default
 * --heartbeat-seconds. Neither the Machine nor its pool records the interval an agent runs with,
 * so the plugin cannot derive it and says so whenever it judges an agent by it.
 */
export const ASSUMED_HEARTBEAT_SECONDS = 300;

/** Two heartbeats missed in a row (10 minutes at the assumed interval): the agent is not reporting. */
export const AGENT_SILENCE_MS = 2 * ASSUMED_HEARTBEAT_SECONDS * 1000;

/** How the plugin judged the silence, since the threshold is an assumption and not the agent's own setting. */
const SILENCE_BASIS =
  `(The plugin judges this itself: no report for ${AGENT_SILENCE_MS / 60_000} minutes, twice the agent's default ` +
  `--heartbeat-seconds of ${ASSUMED_HEARTBEAT_SECONDS}; neither the Machine nor its pool records the interval ` +
  `its agent runs with, so an agent started with a longer one may only be between reports.)`;

/** The plugin's own reading of the heartbeat: the agent has not reported for AGENT_SILENCE_MS. */
function agentSilence(machine: Machine, pool: string, now: Date): WhyReason | undefined {
  const last = machine.status?.agent?.lastHeartbeatTime;
  const at = last === undefined ? Number.NaN : Date.parse(last);
  if (Number.isNaN(at) || now.getTime() - at < AGENT_SILENCE_MS) return undefined;
  return {
    reason: 'AgentNotReporting',
    message: `${describeWaitReason({ kind: 'AgentNotReporting', since: at }, pool)} ${SILENCE_BASIS}`,
    since: last as string,
  };
}

function quoted(name: string): string {
  return JSON.stringify(name);
}

/**
 * Why Machine `machine` is not at its pool's target: its status.waitingFor, the pool's RollingOut
 * message when the budget is full (it names the machines holding it), and a silent agent.
 */
export function whyMachine(machine: Machine, pool: NodePool | undefined, now: Date): WhyAnswer {
  const name = machine.metadata?.name ?? '';
  const object = `Machine ${quoted(name)}`;
  const poolName = machine.spec?.pool ?? pool?.metadata?.name ?? '';
  const reasons: WhyReason[] = [];
  const waitingFor = machine.status?.waitingFor;
  if (waitingFor) reasons.push({ ...waitingFor });
  const rollingOut = findCondition(pool?.status?.conditions, NodePoolConditions.RollingOut);
  if (waitingFor?.reason === 'BudgetFull' && rollingOut)
    reasons.push({ reason: rollingOut.reason, message: rollingOut.message });
  const silence = agentSilence(machine, poolName, now);
  if (silence && waitingFor?.reason !== 'AgentNotReporting') reasons.push(silence);

  const target = pool?.status?.updateRevision;
  let summary: string;
  if (!pool)
    summary = poolName
      ? `in NodePool ${quoted(poolName)}, which does not exist`
      : 'in no NodePool (spec.pool is empty), so no rollout moves it';
  else if (target === undefined)
    summary = `in NodePool ${quoted(poolName)}, which the node-operator has not planned yet (no status.updateRevision)`;
  else {
    const progress = machineProgress(machine, target);
    const drained = findCondition(machine.status?.conditions, MachineConditions.Drained);
    summary =
      progress === 'Updated'
        ? `runs revision ${target}, the target of NodePool ${quoted(poolName)}`
        : progress === 'Updating'
          ? `told revision ${target} of NodePool ${quoted(poolName)}; the agent reports ${machine.status?.revision?.current ?? 'no revision yet'}`
          : progress === 'Failed'
            ? `failed at revision ${target} of NodePool ${quoted(poolName)}`
            : drained?.status === 'False'
              ? `being drained for revision ${target} of NodePool ${quoted(poolName)}: ${drained.message}`
              : `not told revision ${target} of NodePool ${quoted(poolName)} yet`;
  }
  if (machine.metadata?.annotations?.[Annotations.machinePaused] !== undefined && !waitingFor)
    reasons.push({
      reason: 'MachinePaused',
      message: describeWaitReason({ kind: 'MachinePaused', annotation: Annotations.machinePaused }, poolName),
    });
  return { object, summary, reasons };
}

/**
 * Why NodePool `pool` is not done: its Paused condition (or, when nothing stops it, what its
 * RollingOut condition says is under way) and, per reason, how many of its machines wait for it,
 * with a few names and the first one's sentence.
 */
export function whyNodePool(pool: NodePool, machines: readonly Machine[], now: Date): WhyAnswer {
  const name = pool.metadata?.name ?? '';
  const object = `NodePool ${quoted(name)}`;
  const status = pool.status ?? {};
  const reasons: WhyReason[] = [];
  const generation = pool.metadata?.generation;
  if (generation !== undefined && status.observedGeneration !== generation)
    reasons.push({
      reason: 'OperatorBehind',
      message:
        `The node-operator has not acted on generation ${generation} of the pool yet ` +
        `(it last observed ${status.observedGeneration ?? 'none'}); if this lasts, check that it runs.`,
    });
  const paused = findCondition(status.conditions, NodePoolConditions.Paused);
  const rollingOut = findCondition(status.conditions, NodePoolConditions.RollingOut);
  if (paused?.status === 'True')
    reasons.push({ reason: paused.reason, message: paused.message, since: paused.lastTransitionTime });
  else if (rollingOut && rollingOut.reason !== 'Complete')
    reasons.push({ reason: rollingOut.reason, message: rollingOut.message });

  const members = machines.filter((machine) => isNodePoolMember(machine, pool));
  const byReason = new Map<string, { names: string[]; first: WhyReason }>();
  for (const machine of members) {
    const machineName = machine.metadata?.name ?? '';
    const own = machine.status?.waitingFor ?? agentSilence(machine, name, now);
    if (!own) continue;
    const group = byReason.get(own.reason) ?? { names: [], first: own };
    group.names.push(machineName);
    byReason.set(own.reason, group);
  }
  for (const [reason, { names, first }] of byReason)
    reasons.push({
      reason,
      message: `${names.length} machine${names.length === 1 ? '' : 's'} (${listNames(names)}): ${first.message}`,
    });

  const target = status.updateRevision;
  const summary =
    target === undefined
      ? 'not planned by the node-operator yet (no status.updateRevision)'
      : rollingOut?.reason === 'Complete'
        ? `runs revision ${target} on all ${status.machines ?? members.length} machines`
        : `rolling out revision ${target}: ${status.updatedMachines ?? 0}/${status.machines ?? members.length} machines updated`;
  return { object, summary, reasons };
}

/** The gates of a Cluster, in bring-up order: each waits for the ones before it. */
const GATES = [
  ClusterConditions.EtcdAvailable,
  ClusterConditions.APIServerAvailable,
  ClusterConditions.ControllerManagerAvailable,
  ClusterConditions.SchedulerAvailable,
  ClusterConditions.NodeOperatorAvailable,
] as const;

/**
 * Why Cluster `cluster` is not at its spec: paused; held (Progressing False with a reason other
 * than AsDesired: a name conflict, an unknown etcd version, kubelets outside the skew of a minor
 * upgrade, a rollback, …); or under way, waiting at the first gate not Available at the desired
 * version (since the gate started); Degraded; an etcd alarm; an etcd membership change that waits.
 */
export function whyCluster(cluster: Cluster): WhyAnswer {
  const name = cluster.metadata?.name ?? '';
  const object = `Cluster ${quoted(`${cluster.metadata?.namespace ?? ''}/${name}`)}`;
  const status = cluster.status ?? {};
  const reasons: WhyReason[] = [];
  const byPerson = [
    ...(cluster.spec.paused === true ? ['spec.paused'] : []),
    ...(cluster.metadata?.annotations?.[Annotations.clusterPaused] !== undefined
      ? [`the annotation ${Annotations.clusterPaused}`]
      : []),
  ];
  if (byPerson.length > 0)
    reasons.push({
      reason: 'Paused',
      message:
        `The Cluster is paused by ${byPerson.join(' and ')}: the kube-on-kube operator writes nothing for it. ` +
        `Set spec.paused to false and remove the annotation to let it go on.`,
    });
  const generation = cluster.metadata?.generation;
  if (byPerson.length === 0 && generation !== undefined && status.observedGeneration !== generation)
    reasons.push({
      reason: 'OperatorBehind',
      message:
        `The kube-on-kube operator has not acted on generation ${generation} yet ` +
        `(it last observed ${status.observedGeneration ?? 'none'}); if this lasts, check that it runs.`,
    });
  const progressing = findCondition(status.conditions, ClusterConditions.Progressing);
  if (byPerson.length === 0 && progressing) {
    if (progressing.status === 'True') {
      const gate = GATES.map((type) => findCondition(status.conditions, type)).find(
        (condition) => condition !== undefined && condition.status !== 'True',
      );
      const started = status.gates?.find((g) => g.name === gate?.type && g.completedAt === undefined);
      if (gate)
        reasons.push({
          reason: gate.reason,
          message: `Waiting at gate ${gate.type}: ${gate.message}`,
          ...(started ? { since: started.startedAt } : {}),
        });
      else reasons.push({ reason: progressing.reason, message: progressing.message });
    } else if (progressing.reason !== 'AsDesired' && progressing.reason !== 'Paused') {
      reasons.push({
        reason: progressing.reason,
        message: progressing.message,
        since: progressing.lastTransitionTime,
      });
    }
  }
  const degraded = findCondition(status.conditions, ClusterConditions.Degraded);
  if (degraded?.status === 'True' && !reasons.some((r) => r.reason === degraded.reason))
    reasons.push({ reason: degraded.reason, message: `Degraded: ${degraded.message}` });
  // What etcd itself reports: an alarm (writes refused while NOSPACE is raised) and a membership change that waits.
  const alarm = findCondition(status.conditions, ClusterConditions.EtcdAlarm);
  if (alarm?.status === 'True')
    reasons.push({ reason: alarm.reason, message: alarm.message, since: alarm.lastTransitionTime });
  const membership = findCondition(status.conditions, ClusterConditions.EtcdMembership);
  if (membership?.status === 'False')
    reasons.push({
      reason: membership.reason,
      message: membership.message,
      since: membership.lastTransitionTime,
    });

  const version = status.version;
  const summary =
    byPerson.length > 0
      ? `paused at ${version?.current ?? 'no version yet'}`
      : version?.current === cluster.spec.version && reasons.length === 0
        ? `runs ${cluster.spec.version} as desired`
        : `at ${version?.current ?? 'no version yet'}, desired ${cluster.spec.version} (phase ${status.phase ?? 'unknown'})`;
  return { object, summary, reasons };
}
