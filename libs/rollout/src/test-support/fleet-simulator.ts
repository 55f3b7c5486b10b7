import type { EpochMillis, MachineState } from '../machine-state.ts';
import { planRollout } from '../plan-rollout.ts';
import type { RolloutInput, RolloutPlan } from '../rollout-plan.ts';
import type { RolloutSpec } from '../rollout-spec.ts';

/**
 * A pretend fleet for tests: it applies plans the way the node-operator would
 * (cordon, drain, write revisions), plays the agents (converge after a few
 * steps, or fail where a host is set to fail), and lets things happen to hosts
 * (a Node goes NotReady, a remediation starts, someone cordons by hand), all
 * on a fake clock. It checks nothing itself; tests do.
 */

/** A host's hidden truth: which revisions it cannot run. */
export interface SimulatedHost {
  name: string;
  labels?: Record<string, string>;
  needsDisruption?: boolean;
  /** Revisions this host fails at once its agent has applied them. */
  failsAt?: readonly string[];
}

export type HostEventKind = 'nodeNotReady' | 'remediation' | 'manualCordon';

/** Something that happens to a host, for `steps` steps, then passes. */
export interface HostEvent {
  kind: HostEventKind;
  /** Index into the hosts; taken modulo their number. */
  host: number;
  steps: number;
}

export interface SimulationOptions {
  pool?: string;
  spec: RolloutSpec;
  hosts: readonly SimulatedHost[];
  /** Revision every host runs at the start. Default "r1". */
  startRevision?: string;
  /** Revision to roll out. Default "r2". */
  targetRevision?: string;
  /** Default 1_700_000_000_000. */
  startTime?: EpochMillis;
  /** How far the clock moves per step. Default 30 s. */
  stepMillis?: number;
  /** Steps an agent takes to apply a revision. Default 2. */
  agentSteps?: number;
  /** Steps a drain takes. Default 1. */
  drainSteps?: number;
}

export interface SimulationStep {
  before: RolloutInput;
  plan: RolloutPlan;
  applied: MachineState[];
}

interface HostState {
  machine: MachineState;
  failsAt: ReadonlySet<string>;
  agentStepsLeft: number;
  drainStepsLeft: number;
  notReadySteps: number;
  remediationSteps: number;
  manualCordonSteps: number;
  /** The agent is restarting services or rebooting for a disruptive change. */
  restarting: boolean;
}

export class FleetSimulator {
  readonly pool: string;
  spec: RolloutSpec;
  targetRevision: string;
  lastGoodRevision: string;
  now: EpochMillis;
  resumedAfterWave: number | undefined;
  rolledBack = false;
  readonly #hosts: HostState[];
  readonly #stepMillis: number;
  readonly #agentSteps: number;
  readonly #drainSteps: number;

  constructor(options: SimulationOptions) {
    this.pool = options.pool ?? 'workers';
    this.spec = options.spec;
    const startRevision = options.startRevision ?? 'r1';
    this.lastGoodRevision = startRevision;
    this.targetRevision = options.targetRevision ?? 'r2';
    this.now = options.startTime ?? 1_700_000_000_000;
    this.#stepMillis = options.stepMillis ?? 30_000;
    this.#agentSteps = options.agentSteps ?? 2;
    this.#drainSteps = options.drainSteps ?? 1;
    this.#hosts = options.hosts.map((host) => ({
      machine: {
        name: host.name,
        labels: host.labels ?? {},
        currentRevision: startRevision,
        desiredRevision: startRevision,
        ready: true,
        cordoned: false,
        needsDisruption: host.needsDisruption ?? true,
        finishedAt: this.now - 86_400_000,
      },
      failsAt: new Set(host.failsAt ?? []),
      agentStepsLeft: 0,
      drainStepsLeft: 0,
      notReadySteps: 0,
      remediationSteps: 0,
      manualCordonSteps: 0,
      restarting: false,
    }));
  }

  /** What the planner would observe now (copies; the planner cannot touch the world). */
  input(): RolloutInput {
    return {
      pool: this.pool,
      spec: this.spec,
      targetRevision: this.targetRevision,
      lastGoodRevision: this.lastGoodRevision,
      machines: this.machines(),
      now: this.now,
      resumedAfterWave: this.resumedAfterWave,
      rolledBack: this.rolledBack,
    };
  }

  machines(): MachineState[] {
    return this.#hosts.map((host) => ({ ...host.machine }));
  }

  machine(name: string): MachineState {
    const host = this.#hosts.find((candidate) => candidate.machine.name === name);
    if (!host) throw new Error(`no machine ${name} in the simulation`);
    return { ...host.machine };
  }

  plan(): RolloutPlan {
    return planRollout(this.input());
  }

  /** Does what the node-operator does with a plan. */
  apply(plan: RolloutPlan): void {
    for (const name of plan.cordon) {
      const machine = this.#host(name).machine;
      machine.cordoned = true;
      machine.cordonedByRollout = true;
      machine.drained = false;
    }
    for (const name of plan.drain) {
      const host = this.#host(name);
      if (!host.machine.drained && host.drainStepsLeft === 0) host.drainStepsLeft = this.#drainSteps;
    }
    for (const name of plan.uncordon) {
      const host = this.#host(name);
      host.machine.cordonedByRollout = false;
      host.machine.drained = false;
      host.machine.cordoned = host.manualCordonSteps > 0;
    }
    for (const { machine: name, revision } of plan.assign) {
      const host = this.#host(name);
      host.machine.desiredRevision = revision;
      host.machine.startedAt = this.now;
      host.machine.finishedAt = undefined;
      host.agentStepsLeft = this.#agentSteps;
    }
    if (plan.rolledBack) this.rolledBack = true;
    if (plan.complete) this.lastGoodRevision = this.targetRevision;
  }

  /** Lets things happen to hosts, moves the clock one step, and lets drains and agents work. */
  advance(events: readonly HostEvent[] = []): void {
    for (const event of events) this.#begin(event);
    this.now += this.#stepMillis;
    for (const host of this.#hosts) {
      const machine = host.machine;
      if (host.drainStepsLeft > 0 && --host.drainStepsLeft === 0) machine.drained = true;
      if (host.agentStepsLeft > 0) {
        host.restarting = machine.needsDisruption;
        if (--host.agentStepsLeft === 0) this.#converge(host);
      }
      if (host.notReadySteps > 0) host.notReadySteps--;
      if (host.remediationSteps > 0 && --host.remediationSteps === 0) machine.underRemediation = false;
      if (host.manualCordonSteps > 0 && --host.manualCordonSteps === 0 && !machine.cordonedByRollout) {
        machine.cordoned = false;
      }
      machine.ready = host.notReadySteps === 0 && !host.restarting;
    }
  }

  /**
   * One planner pass: observe, plan, apply, then advance. Returns what the planner saw, the plan, and
   * the machines right after the plan was applied (before hosts moved on), where budgets are judged.
   */
  step(events: readonly HostEvent[] = []): SimulationStep {
    const before = this.input();
    const plan = planRollout(before);
    this.apply(plan);
    const applied = this.machines();
    this.advance(events);
    return { before, plan, applied };
  }

  #converge(host: HostState): void {
    const machine = host.machine;
    const revision = machine.desiredRevision;
    host.restarting = false;
    machine.currentRevision = revision;
    if (revision !== undefined && host.failsAt.has(revision)) {
      machine.failedRevision = revision;
      machine.failureMessage = 'kubelet: exec check exited 1';
    } else {
      machine.failedRevision = undefined;
      machine.failureMessage = undefined;
      machine.finishedAt = this.now;
    }
  }

  #begin(event: HostEvent): void {
    const host = this.#hosts[event.host % this.#hosts.length];
    if (!host) return;
    switch (event.kind) {
      case 'nodeNotReady':
        host.notReadySteps = Math.max(host.notReadySteps, event.steps);
        host.machine.ready = false;
        break;
      case 'remediation':
        host.remediationSteps = Math.max(host.remediationSteps, event.steps);
        host.machine.underRemediation = true;
        break;
      case 'manualCordon':
        if (host.machine.cordonedByRollout) break;
        host.manualCordonSteps = Math.max(host.manualCordonSteps, event.steps);
        host.machine.cordoned = true;
        break;
    }
  }

  #host(name: string): HostState {
    const host = this.#hosts.find((candidate) => candidate.machine.name === name);
    if (!host) throw new Error(`plan names ${name}, which is not in the simulation`);
    return host;
  }
}
