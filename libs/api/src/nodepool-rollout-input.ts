/**
 * What the NodePool rollout planner (@kok/rollout planRollout) is given, read
 * from the objects: the pool's rollout spec with its defaults, the annotations
 * that are the node-operator's memory of a rollout, and each Machine with its
 * Node. The node-operator plans from this and kubectl kok previews from it
 * (nodepool plan, nodepool status --watch), so a preview reads the fleet
 * exactly as the operator does. Pool membership, the label selectors and the
 * pause after a wave are @kok/rollout's (isNodePoolMember, poolRolloutMemory).
 * Pure.
 *
 * The planner's types live in @kok/rollout, which this lib may not import: the
 * shapes here mirror RolloutSpec and MachineState, and callers hand them on as
 * those types, so a field that stops matching fails to compile there.
 */
import { findCondition, isConditionTrue } from './conditions.ts';
import type { Condition, LabelSelector } from './common-schemas.ts';
import { needsDisruption } from './disruption.ts';
import type { DisruptionPolicy } from './disruption.ts';
import type { Machine } from './machine.ts';
import type { HealthGate, NodePool, NodePoolTemplate } from './node-pool.ts';
import { MachineConditions } from './well-known.ts';

/** Annotations the node-operator's rollout writes; with Machine.spec they are its memory across restarts. */
export const RolloutAnnotations = {
  /** On a Machine: the rollout cordoned its Node for this revision, so the rollout may lift the cordon. */
  cordonedByRollout: 'nodes.kok.dev/cordoned-by-rollout',
  /** On a Machine: when the rollout cordoned it (RFC 3339); the drain timeout counts from here. */
  drainStartedAt: 'nodes.kok.dev/drain-started-at',
  /** On a Machine: every pod that had to leave is gone since the rollout cordon for this revision. */
  drained: 'nodes.kok.dev/drained',
  /**
   * On a Machine: `<revision>/<RFC 3339 time>` — when the rollout told it that revision (written with
   * spec.revision); the pool's progress deadline counts from here, across operator restarts.
   */
  revisionAssigned: 'nodes.kok.dev/revision-assigned',
  /**
   * On a NodePool: `<revision>/<wave>` — the operator set spec.paused after that wave (pauseAfter: true);
   * @kok/rollout writes and reads the value (pausedAfterWaveValue, poolRolloutMemory).
   */
  pausedAfterWave: 'nodes.kok.dev/paused-after-wave',
} as const;

/** NodePool.spec.rollout.progressDeadlineSeconds when unset. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** NodePool.spec.drain.timeoutSeconds when unset. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;

/** One wave as the planner reads it (its WaveSpec). */
export interface PoolWaveSpec {
  name?: string;
  count?: number;
  percent?: number;
  selector?: LabelSelector;
  pauseAfter?: boolean | number;
  bakeSeconds?: number;
}

/** `NodePool.spec.rollout` and `spec.paused` as the planner reads them (its RolloutSpec), defaults applied. */
export interface PoolRolloutSpec {
  paused: boolean;
  maxUnavailable?: number | string;
  waves?: PoolWaveSpec[];
  maxFailed?: number;
  autoRollback?: boolean;
  order?: string[];
  progressDeadlineSeconds: number;
  /** Absent when the pool sets 0: no drain timeout. */
  drainTimeoutSeconds?: number;
}

/** The planner's view of the pool's rollout spec (see libs/rollout/README.md for the mapping). */
export function poolRolloutSpec(pool: Pick<NodePool, 'spec'>): PoolRolloutSpec {
  const rollout = pool.spec.rollout;
  const spec: PoolRolloutSpec = {
    paused: pool.spec.paused === true,
    // The apiserver defaults it; an object that skipped defaulting gets the same.
    progressDeadlineSeconds: rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
  };
  const maxUnavailable = rollout?.strategy?.rollingUpdate?.maxUnavailable;
  if (maxUnavailable !== undefined) spec.maxUnavailable = maxUnavailable;
  if (rollout?.waves) spec.waves = rollout.waves.map(waveSpecOf);
  if (rollout?.maxFailed !== undefined) spec.maxFailed = rollout.maxFailed;
  if (rollout?.autoRollback !== undefined) spec.autoRollback = rollout.autoRollback;
  if (rollout?.order) spec.order = [...rollout.order.labelKeys];
  // 0 means no drain timeout; the planner knows only "unset" for that.
  const drainTimeoutSeconds = pool.spec.drain?.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
  if (drainTimeoutSeconds > 0) spec.drainTimeoutSeconds = drainTimeoutSeconds;
  return spec;
}

function waveSpecOf(
  wave: NonNullable<NonNullable<NodePool['spec']['rollout']>['waves']>[number],
): PoolWaveSpec {
  const spec: PoolWaveSpec = { name: wave.name };
  if (wave.count !== undefined) spec.count = wave.count;
  if (wave.percent !== undefined) spec.percent = wave.percent;
  if (wave.selector !== undefined) spec.selector = wave.selector;
  if (wave.pauseAfter) spec.pauseAfter = true;
  if (wave.bakeSeconds) spec.bakeSeconds = wave.bakeSeconds;
  return spec;
}

export function revisionAssignedValue(revision: string, at: Date): string {
  // Milliseconds, not metaTime's seconds: a deadline of a few seconds must not fire up to one early.
  return `${revision}/${at.toISOString()}`;
}

/** When the rollout told the machine `revision`, or undefined when the record is missing, garbled or about another revision. */
export function revisionAssignedAt(
  value: string | undefined,
  revision: string | undefined,
): number | undefined {
  if (value === undefined || revision === undefined) return undefined;
  const slash = value.indexOf('/');
  if (slash < 0 || value.slice(0, slash) !== revision) return undefined;
  const at = Date.parse(value.slice(slash + 1));
  return Number.isNaN(at) ? undefined : at;
}

/** What is read of a Node (a V1Node is one). */
export interface NodeView {
  metadata?: { labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] };
}

export function isNodeReady(node: NodeView | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** One gate of the pool that a Node does not meet, in the Node's words. */
export interface UnmetHealthGate {
  /** `KernelDeadlock=False`: the gate, as messages name it. */
  gate: string;
  /** Why it is not met, e.g. `Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked)`. */
  detail: string;
}

/**
 * The gates `node` does not meet, in the order the pool lists them. A condition
 * the Node does not report does not meet its gate: a detector that has not
 * spoken (or was never installed) proves nothing healthy.
 */
export function unmetHealthGates(
  node: NodeView,
  gates: readonly HealthGate[] | undefined,
): UnmetHealthGate[] {
  const unmet: UnmetHealthGate[] = [];
  for (const gate of gates ?? []) {
    const condition = node.status?.conditions?.find((c) => c.type === gate.type);
    if (condition?.status === gate.status) continue;
    let detail = `the Node has no ${gate.type} condition`;
    if (condition) {
      const why = [condition.reason, condition.message].filter((part) => part).join(': ');
      detail = `Node condition ${gate.type} is ${condition.status}${why ? ` (${why})` : ''}`;
    }
    unmet.push({ gate: `${gate.type}=${gate.status}`, detail });
  }
  return unmet;
}

/** `health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: …)`. */
export function describeUnmetHealthGate(unmet: UnmetHealthGate): string {
  return `health gate ${unmet.gate} not met: ${unmet.detail}`;
}

/** One machine as the planner reads it (its MachineState). */
export interface MachineRolloutState {
  name: string;
  labels: Record<string, string>;
  currentRevision?: string;
  desiredRevision?: string;
  ready: boolean;
  failedRevision?: string;
  failureMessage?: string;
  cordoned: boolean;
  cordonedByRollout: boolean;
  drained: boolean;
  drainStartedAt?: number;
  drainBlocker?: string;
  unmetHealthGates?: string[];
  underRemediation: boolean;
  needsDisruption: boolean;
  startedAt?: number;
  progressBlocker?: string;
  finishedAt?: number;
}

/** The pool settings a machine is read under: its target template, disruption policy and health gates. */
export interface MachineRolloutContext {
  target: NodePoolTemplate;
  policy: DisruptionPolicy | undefined;
  healthGates?: readonly HealthGate[] | undefined;
}

/** The reason the agent gives on UpToDate when a component failed at the desired revision. */
const COMPONENT_FAILED = 'ComponentFailed';
/** NodeHealthy reasons that mean the Node is not Ready or missing, as the node-operator copies them onto the Machine. */
const NODE_NOT_READY_REASONS: ReadonlySet<string> = new Set(['NodeNotReady', 'NodeMissing']);

/** What the Node says about the machine, from the Node itself or from the Machine's copy of it. */
interface NodeFacts {
  labels: Record<string, string>;
  ready: boolean;
  cordoned: boolean;
  unmetGates: UnmetHealthGate[];
  /** Why the Node is not Ready, in its words; undefined when it is. */
  notReady: string | undefined;
}

function factsOfNode(node: NodeView | undefined, gates: readonly HealthGate[] | undefined): NodeFacts {
  if (!node) return { labels: {}, ready: false, cordoned: false, unmetGates: [], notReady: 'no Node' };
  const ready = isNodeReady(node);
  const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    labels: node.metadata?.labels ?? {},
    ready,
    cordoned: node.spec?.unschedulable === true,
    unmetGates: unmetHealthGates(node, gates),
    notReady: ready
      ? undefined
      : readyCondition?.reason
        ? `Node NotReady (${readyCondition.reason})`
        : 'Node NotReady',
  };
}

/** Without the Node: readiness from the NodeHealthy condition the node-operator copies, the cordon from spec. */
function factsFromMachine(machine: Machine): NodeFacts {
  const nodeHealthy = findCondition(machine.status?.conditions, MachineConditions.NodeHealthy);
  const notReady =
    nodeHealthy && nodeHealthy.status !== 'True' && NODE_NOT_READY_REASONS.has(nodeHealthy.reason);
  return {
    labels: {},
    ready: !notReady,
    cordoned: machine.spec?.unschedulable === true,
    unmetGates: [],
    notReady: notReady ? describeCondition(nodeHealthy) : undefined,
  };
}

/**
 * One machine for the planner, from its Machine (spec, the agent's status, the
 * rollout's annotations) and its Node (undefined: it has none, so it is not ready).
 *
 * - ready: the Node exists and is Ready and the agent says AgentReady.
 * - unmetHealthGates: the pool's rollout.healthGates the Node's conditions do
 *   not meet (a missing condition does not meet its gate).
 * - cordoned: the Node is unschedulable, or the rollout has decided to cordon
 *   it (annotation written, Node not patched yet): either way it is disrupted.
 * - failed: a component reports Failed, or UpToDate is False for ComponentFailed;
 *   the failure is at the revision the agent was converging to.
 * - startedAt: when the rollout told it spec.revision (its annotation), for the
 *   progress deadline; progressBlocker: why it is not healthy there yet.
 * - drainStartedAt: when the rollout cordoned it (its annotation), for the drain
 *   timeout; drainBlocker: what the drain waits for (the Drained condition).
 */
export function machineRolloutState(
  machine: Machine,
  node: NodeView | undefined,
  context: MachineRolloutContext,
): MachineRolloutState {
  return stateOf(machine, factsOfNode(node, context.healthGates), context);
}

/**
 * The same for a reader that watches Machines only (nodepool status --watch):
 * the Node's readiness and cordon come from what the node-operator copies onto
 * the Machine (NodeHealthy, spec.unschedulable); its labels and health gates are
 * not seen.
 */
export function machineRolloutStateWithoutNode(
  machine: Machine,
  context: MachineRolloutContext,
): MachineRolloutState {
  return stateOf(machine, factsFromMachine(machine), context);
}

function stateOf(machine: Machine, node: NodeFacts, context: MachineRolloutContext): MachineRolloutState {
  const annotations = machine.metadata?.annotations ?? {};
  const conditions = machine.status?.conditions;
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  const failedComponents = (machine.status?.components ?? []).filter((c) => c.state === 'Failed');
  const failed =
    failedComponents.length > 0 || (upToDate?.status === 'False' && upToDate.reason === COMPONENT_FAILED);
  const failedRevision = failed ? (machine.status?.revision?.desired ?? machine.spec?.revision) : undefined;
  const cordonedByRollout = annotations[RolloutAnnotations.cordonedByRollout] !== undefined;
  const finishedAt = upToDate?.status === 'True' ? Date.parse(upToDate.lastTransitionTime) : undefined;

  const state: MachineRolloutState = {
    name: machine.metadata?.name ?? '',
    labels: { ...(machine.metadata?.labels ?? {}), ...node.labels },
    ready: node.ready && isConditionTrue(conditions, MachineConditions.AgentReady),
    cordoned: node.cordoned || cordonedByRollout,
    cordonedByRollout,
    drained: annotations[RolloutAnnotations.drained] !== undefined,
    underRemediation: isConditionTrue(conditions, MachineConditions.Remediating),
    needsDisruption: needsDisruption(machine.spec ?? {}, context.target, context.policy),
  };
  if (machine.status?.revision?.current !== undefined)
    state.currentRevision = machine.status.revision.current;
  if (machine.spec?.revision !== undefined) state.desiredRevision = machine.spec.revision;
  if (failedRevision !== undefined) {
    state.failedRevision = failedRevision;
    state.failureMessage =
      failedComponents.length > 0
        ? failedComponents.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ')
        : upToDate?.message || 'a component failed';
  }
  if (finishedAt !== undefined && !Number.isNaN(finishedAt)) state.finishedAt = finishedAt;
  if (node.unmetGates.length > 0) state.unmetHealthGates = node.unmetGates.map((unmet) => unmet.gate);
  if (cordonedByRollout) {
    const drainStartedAt = Date.parse(annotations[RolloutAnnotations.drainStartedAt] ?? '');
    if (!Number.isNaN(drainStartedAt)) state.drainStartedAt = drainStartedAt;
    const drainedCondition = findCondition(conditions, MachineConditions.Drained);
    if (drainedCondition?.status === 'False' && drainedCondition.message)
      state.drainBlocker = drainedCondition.message;
  }
  const startedAt = revisionAssignedAt(
    annotations[RolloutAnnotations.revisionAssigned],
    machine.spec?.revision,
  );
  if (startedAt !== undefined) state.startedAt = startedAt;
  const blocker = progressBlocker(machine, node);
  if (blocker !== undefined) state.progressBlocker = blocker;
  return state;
}

/**
 * Why the machine is not healthy at spec.revision, in the Node's and the agent's
 * words (e.g. "AgentReady False VersionNotFound: …", "Node NotReady", "health
 * gate KernelDeadlock=False not met: …"), or undefined when nothing is in the way.
 */
function progressBlocker(machine: Machine, node: NodeFacts): string | undefined {
  const conditions = machine.status?.conditions;
  const blockers: string[] = [];
  if (node.notReady !== undefined) blockers.push(node.notReady);
  blockers.push(...node.unmetGates.map(describeUnmetHealthGate));
  const agentReady = findCondition(conditions, MachineConditions.AgentReady);
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  const desired = machine.spec?.revision;
  const current = machine.status?.revision?.current;
  if (!agentReady) blockers.push('the agent has not reported');
  else if (agentReady.status !== 'True') blockers.push(describeCondition(agentReady));
  else if (upToDate && upToDate.status !== 'True') blockers.push(describeCondition(upToDate));
  else if (desired !== undefined && current !== desired)
    blockers.push(`the agent reports revision ${current ?? '(none)'}`);
  return blockers.length > 0 ? blockers.join('; ') : undefined;
}

function describeCondition(condition: Pick<Condition, 'type' | 'status' | 'reason' | 'message'>): string {
  const head = `${condition.type} ${condition.status} ${condition.reason}`;
  return condition.message ? `${head}: ${condition.message}` : head;
}
