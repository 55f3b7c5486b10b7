import type { ConditionUpdate, RemediationPolicySpec } from '@kok/api';
import type { EpochMillis } from '@kok/rollout';
import { parseGoDuration } from '../shared/go-duration.ts';

export type RemediationActionSpec = RemediationPolicySpec['actions'][number];
export type RemediationActionType = RemediationActionSpec['type'];

/** maxUnhealthy when the policy does not set it (the CRD default). */
export const DEFAULT_MAX_UNHEALTHY = '40%';
/** An action's timeout when it does not set one (the CRD default). */
export const DEFAULT_ACTION_TIMEOUT = '10m';

/** Conditions of RemediationPolicy.status. */
export const RemediationPolicyConditions = {
  /** False while the circuit breaker (maxUnhealthy) or its cooldown stops remediation. */
  RemediationAllowed: 'RemediationAllowed',
  /** True while more machines are unhealthy than maxUnhealthy. */
  StormActive: 'StormActive',
} as const;

/** StormActive reasons; CoolingDown and StormEnded say a storm happened (its end starts the cooldown). */
export const STORM_REASONS = {
  active: 'TooManyUnhealthy',
  cooling: 'CoolingDown',
  ended: 'StormEnded',
  none: 'NoStorm',
} as const;

/** A Node or Machine condition as the planner sees it: since when it has had its status. */
export interface ObservedCondition {
  type: string;
  status: string;
  since: EpochMillis;
}

/**
 * What the node-operator remembers on a Machine about its latest remediation
 * (annotation nodes.kok.dev/remediation): the last action, and whether the
 * remediation is still going. Only the latest is kept, never a history.
 */
export interface RemediationRecord {
  /** The RemediationPolicy that runs it. */
  policy: string;
  /** Index of the last action issued in the policy's `actions`. */
  step: number;
  action: RemediationActionType;
  /** When that action was issued; its timeout counts from here. */
  startedAt: EpochMillis;
  /** InProgress: waiting on the last action; Exhausted: no action left; Succeeded: healthy again. */
  state: 'InProgress' | 'Exhausted' | 'Succeeded';
  /** The remediation cordoned the machine (Cordon, Drain or Reboot), so it lifts the cordon when done. */
  cordoned?: boolean;
  /**
   * A Reboot whose drain is still under way: the reboot is issued (rebootGeneration raised) only once
   * the Node is empty, so a reboot never bypasses PodDisruptionBudgets.
   */
  drainingBeforeReboot?: boolean;
}

export interface RemediationCandidate {
  /** Machine name, also the Node name. */
  name: string;
  /** The NodePool whose disruption budget it shares; undefined when no pool selects it (only maxUnhealthy limits it). */
  pool?: string;
  /** The Node's conditions and the Machine's (mirrored Node<Type>, the agent's own), with when each last changed. */
  conditions: readonly ObservedCondition[];
  /** A person asked for remediation (annotation nodes.kok.dev/remediate). Default false. */
  requested?: boolean;
  record?: RemediationRecord;
  /** The Machine's Remediating condition is True. */
  remediating: boolean;
  /** It already takes a place in its pool's budget (unavailable, converging or under remediation). */
  occupiesBudget: boolean;
}

/** One pool's disruption budget as the rollout planner counts it. */
export interface PoolBudget {
  /** maxUnavailable resolved for the pool's size. */
  limit: number;
  /** Machines of the pool (selected by this policy or not) that take a place now. */
  used: number;
}

export interface RemediationInput {
  policy: string;
  spec: Pick<RemediationPolicySpec, 'unhealthyConditions' | 'maxUnhealthy' | 'actions'>;
  machines: readonly RemediationCandidate[];
  budgets: ReadonlyMap<string, PoolBudget>;
  /** The StormActive condition was True when last written. */
  stormWasActive: boolean;
  /** When the last storm ended (StormActive turned False), for the cooldown. */
  stormEndedAt?: EpochMillis;
  /** The reason StormActive was last written with; undefined when it never was. */
  stormReason?: string;
  /** After a storm, remediation stays stopped this long. */
  cooldownMs: number;
  now: EpochMillis;
}

/** Issue `action` (step `step` of the ladder) on `machine`. */
export interface RemediationActionPlan {
  machine: string;
  step: number;
  action: RemediationActionSpec;
  /** Why: the unhealthy condition, or the timeout of the previous action. */
  reason: string;
}

export interface RemediationPlan {
  act: RemediationActionPlan[];
  /** The last action timed out and there is none left: mark it Exhausted (the machine stays under remediation). */
  exhaust: { machine: string; reason: string }[];
  /** Healthy again: close the remediation (lift its cordon, Remediating False). */
  finish: string[];
  /** Unhealthy machines waiting for room in their pool's budget. */
  waitingForBudget: string[];
  storm: { active: boolean; coolingDown: boolean; message: string };
  /** The policy's StormActive and RemediationAllowed conditions, in the order they are written. */
  conditions: ConditionUpdate[];
  /** RemediationPolicy.status counts; remediationsAllowed is 0 while remediation is stopped. */
  status: {
    expectedMachines: number;
    currentHealthy: number;
    remediationsAllowed: number;
    inFlightRemediations: number;
  };
  counts: {
    expectedMachines: number;
    currentHealthy: number;
    unhealthy: number;
    maxUnhealthy: number;
    remediationsAllowed: number;
    inFlightRemediations: number;
  };
  /** Plan again at this time (a condition reaches its duration, a timeout ends, the cooldown ends). */
  wakeAt?: EpochMillis;
}

/** maxUnhealthy as a number of machines: a percentage of `expected`, rounded down. */
export function resolveMaxUnhealthy(value: number | string | undefined, expected: number): number {
  const resolved = value ?? DEFAULT_MAX_UNHEALTHY;
  if (typeof resolved === 'number') return resolved;
  const match = /^(\d{1,3})%$/.exec(resolved);
  if (!match)
    throw new RangeError(`maxUnhealthy ${JSON.stringify(resolved)} is not a number or a percentage`);
  return Math.floor((expected * Number(match[1])) / 100);
}

export function actionTimeoutMs(action: RemediationActionSpec): number {
  return parseGoDuration(action.timeout ?? DEFAULT_ACTION_TIMEOUT);
}

interface Health {
  /** An unhealthy condition has held for its duration (or remediation was requested). */
  unhealthy: boolean;
  /** An unhealthy condition holds at all, lasting or not: the machine is not healthy yet. */
  matching: boolean;
  /** Since when it counts as unhealthy (for ordering), or when it will. */
  since?: EpochMillis;
  reason: string;
}

function healthOf(
  machine: RemediationCandidate,
  input: RemediationInput,
  wake: (at: number) => void,
): Health {
  if (machine.requested)
    return { unhealthy: true, matching: true, since: 0, reason: 'remediation requested' };
  let result: Health = { unhealthy: false, matching: false, reason: '' };
  for (const rule of input.spec.unhealthyConditions) {
    const condition = machine.conditions.find((c) => c.type === rule.type && c.status === rule.status);
    if (!condition) continue;
    const at = condition.since + parseGoDuration(rule.duration);
    const reason = `${rule.type} is ${rule.status} for ${rule.duration} or more`;
    if (at <= input.now) {
      if (!result.unhealthy || at < (result.since ?? Infinity))
        result = { unhealthy: true, matching: true, since: at, reason };
    } else {
      wake(at);
      if (!result.unhealthy) result = { unhealthy: false, matching: true, reason };
    }
  }
  return result;
}

/**
 * StormActive says whether a storm is on and, by its reason, whether one ever was (a storm's end,
 * its lastTransitionTime, starts the cooldown); RemediationAllowed says whether actions may be issued.
 */
function policyConditions(
  storm: RemediationPlan['storm'],
  stormReasonBefore: string | undefined,
): ConditionUpdate[] {
  const stopped = storm.active || storm.coolingDown;
  const stormReason = storm.active
    ? STORM_REASONS.active
    : storm.coolingDown
      ? STORM_REASONS.cooling
      : stormReasonBefore !== undefined && stormReasonBefore !== STORM_REASONS.none
        ? STORM_REASONS.ended
        : STORM_REASONS.none;
  return [
    {
      type: RemediationPolicyConditions.StormActive,
      status: storm.active ? 'True' : 'False',
      reason: stormReason,
      message: storm.message,
    },
    {
      type: RemediationPolicyConditions.RemediationAllowed,
      status: stopped ? 'False' : 'True',
      reason: stopped ? (storm.active ? 'StormActive' : 'CoolingDown') : 'WithinLimits',
      message: storm.message,
    },
  ];
}

const isActive = (record: RemediationRecord | undefined): record is RemediationRecord =>
  record !== undefined && record.state !== 'Succeeded';

/**
 * Decides the remediations of one RemediationPolicy. Pure.
 *
 * - A machine is unhealthy when one of `unhealthyConditions` has held for its
 *   duration (or a person asked). It is healthy when none holds at all.
 * - Escalation: the first action starts once unhealthy; each next one only
 *   after the previous action's timeout, in the order of `actions`.
 * - Circuit breaker: while more machines are unhealthy than maxUnhealthy — and
 *   for `cooldownMs` after — no action is issued, not even an escalation.
 * - Budget: an action on a machine that does not yet take a place in its pool's
 *   budget needs room there (`used < limit`); the rollout counts from the same
 *   numbers, so together they stay within maxUnavailable.
 * - Machines remediated by another policy are left to it.
 * - The policy's status: counts, and StormActive and RemediationAllowed as they are to be written.
 */
export function planRemediation(input: RemediationInput): RemediationPlan {
  let wakeAt: number | undefined;
  const wake = (at: number): void => {
    if (at > input.now && (wakeAt === undefined || at < wakeAt)) wakeAt = at;
  };
  const { actions } = input.spec;
  const mine = input.machines.filter((m) => !isActive(m.record) || m.record.policy === input.policy);
  const health = new Map(mine.map((m) => [m.name, healthOf(m, input, wake)]));
  const unhealthy = mine.filter((m) => health.get(m.name)?.unhealthy);
  const healthy = mine.filter((m) => !health.get(m.name)?.matching);
  const maxUnhealthy = resolveMaxUnhealthy(input.spec.maxUnhealthy, input.machines.length);

  const stormNow = unhealthy.length > maxUnhealthy;
  const coolingUntil =
    !stormNow && !input.stormWasActive && input.stormEndedAt !== undefined
      ? input.stormEndedAt + input.cooldownMs
      : undefined;
  const coolingDown = coolingUntil !== undefined && coolingUntil > input.now;
  // A storm that ends now starts its cooldown now.
  const stormEnding = !stormNow && input.stormWasActive;
  if (coolingDown) wake(coolingUntil);
  if (stormEnding) wake(input.now + input.cooldownMs);
  const stopped = stormNow || coolingDown || stormEnding;

  const storm = {
    active: stormNow,
    coolingDown: coolingDown || stormEnding,
    message: stormNow
      ? `${unhealthy.length} of ${input.machines.length} machines are unhealthy, more than maxUnhealthy ${maxUnhealthy}: remediation stopped`
      : coolingDown || stormEnding
        ? `the storm is over; remediation resumes after a cooldown of ${Math.round(input.cooldownMs / 1000)}s`
        : `${unhealthy.length} of ${input.machines.length} machines are unhealthy (maxUnhealthy ${maxUnhealthy})`,
  };
  const counts = {
    expectedMachines: input.machines.length,
    currentHealthy: healthy.length,
    unhealthy: unhealthy.length,
    maxUnhealthy,
    remediationsAllowed: Math.max(0, maxUnhealthy - unhealthy.length),
    inFlightRemediations: mine.filter((m) => isActive(m.record) || m.remediating).length,
  };
  const plan: RemediationPlan = {
    act: [],
    exhaust: [],
    finish: [],
    waitingForBudget: [],
    storm,
    conditions: policyConditions(storm, input.stormReason),
    status: {
      expectedMachines: counts.expectedMachines,
      currentHealthy: counts.currentHealthy,
      remediationsAllowed: stopped ? 0 : counts.remediationsAllowed,
      inFlightRemediations: counts.inFlightRemediations,
    },
    counts,
  };

  for (const machine of healthy) {
    if (isActive(machine.record) || machine.remediating) plan.finish.push(machine.name);
  }
  if (stopped) {
    if (wakeAt !== undefined) plan.wakeAt = wakeAt;
    return plan;
  }

  const room = new Map([...input.budgets].map(([pool, b]) => [pool, b.limit - b.used]));
  const admit = (machine: RemediationCandidate): boolean => {
    if (machine.occupiesBudget || machine.pool === undefined) return true;
    const left = room.get(machine.pool) ?? 0;
    if (left <= 0) return false;
    room.set(machine.pool, left - 1);
    return true;
  };

  // In-flight remediations go first (they hold their place already), then the longest unhealthy.
  const ordered = [...unhealthy].sort(
    (a, b) =>
      Number(isActive(b.record)) - Number(isActive(a.record)) ||
      (health.get(a.name)?.since ?? 0) - (health.get(b.name)?.since ?? 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  for (const machine of ordered) {
    const reason = health.get(machine.name)?.reason ?? '';
    const record = machine.record;
    let step = 0;
    let why = reason;
    if (isActive(record)) {
      if (record.state === 'Exhausted') continue;
      const issued = actions[record.step];
      const timeoutEnds = issued ? record.startedAt + actionTimeoutMs(issued) : input.now;
      if (timeoutEnds > input.now) {
        wake(timeoutEnds);
        continue;
      }
      step = record.step + 1;
      why = `${record.action} did not make it healthy within ${issued?.timeout ?? DEFAULT_ACTION_TIMEOUT} (${reason})`;
      if (step >= actions.length) {
        plan.exhaust.push({ machine: machine.name, reason: `every action was tried; ${why}` });
        continue;
      }
    }
    if (!admit(machine)) {
      plan.waitingForBudget.push(machine.name);
      continue;
    }
    plan.act.push({
      machine: machine.name,
      step,
      action: actions[step] as RemediationActionSpec,
      reason: why,
    });
  }
  if (wakeAt !== undefined) plan.wakeAt = wakeAt;
  return plan;
}
