/**
 * What holds each Machine of a pool from its target, as Machine.status.waitingFor
 * says it. Pure. The planner's reasons (plan.waiting) come first, except where
 * the operator knows more than the planner sees: a person's nodes.kok.dev/paused
 * on the Machine, a drain refused in this pass (naming the PodDisruptionBudget),
 * the version-skew guard or the catalog behind a hold the planner only sees as
 * spec.paused, and an agent that never reported on a machine nothing else holds.
 */
import { Annotations, findCondition, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';
import type { MachineWait, WaitReason } from '@kok/rollout';
import type { CatalogProblem } from './catalog-check.ts';

export interface PoolWaits {
  /** The pool's target revision. */
  target: string;
  /** The planner's reasons (plan.waiting). */
  waiting: readonly MachineWait[];
  /** Drains refused in this pass, by machine name. */
  drainBlocks: ReadonlyMap<string, WaitReason>;
  /** What holds the pool where the planner saw only spec.paused (poolHoldReason). */
  hold: WaitReason | undefined;
}

export function machineWaitReasons({
  target,
  waiting,
  drainBlocks,
  hold,
}: PoolWaits): (machine: Machine) => WaitReason | undefined {
  const planned = new Map(waiting.map((wait) => [wait.machine, wait.reason]));
  return (machine) => {
    const name = machine.metadata?.name ?? '';
    const atTarget = machine.spec?.revision === target && machine.status?.revision?.current === target;
    const reason = planned.get(name);
    if (machine.metadata?.annotations?.[Annotations.machinePaused] !== undefined)
      return atTarget && !reason
        ? undefined
        : { kind: 'MachinePaused', annotation: Annotations.machinePaused };
    const drainBlock = drainBlocks.get(name);
    if (drainBlock) return drainBlock;
    if (reason) return (reason.kind === 'Paused' || reason.kind === 'AwaitingResume') && hold ? hold : reason;
    // The planner sees an agent that never reported only as a machine that is not ready.
    if (atTarget || findCondition(machine.status?.conditions, MachineConditions.AgentReady)) return undefined;
    const heartbeat = Date.parse(machine.status?.agent?.lastHeartbeatTime ?? '');
    return Number.isNaN(heartbeat)
      ? { kind: 'AgentNotReporting' }
      : { kind: 'AgentNotReporting', since: heartbeat };
  };
}

/**
 * What the pool's Paused condition names when it is not the pool's own spec.paused: the version-skew
 * guard first, then the catalog problems that hold it (pass none where the catalog hold does not apply).
 */
export function poolHoldReason(
  skewProblem: string | undefined,
  catalogProblems: readonly CatalogProblem[],
): WaitReason | undefined {
  if (skewProblem) return { kind: 'VersionSkew', problem: skewProblem };
  const [first] = catalogProblems;
  if (!first) return undefined;
  return {
    kind: 'CatalogProblem',
    problem: first.reason,
    detail: catalogProblems.map((problem) => problem.message).join('; '),
  };
}
