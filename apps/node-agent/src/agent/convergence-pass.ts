/**
 * One convergence pass, and what passes remember of each other: observe the
 * Machine and the host → plan (../convergence-plan.ts, reboots and reinstalls
 * included) → carry out the steps (execute-step.ts) → report
 * (status-reporter.ts). The lifecycle around it (watches, timers, retries) is
 * node-agent.ts.
 *
 * Over 300 lines on purpose: the order in which a pass journals, writes its
 * status and changes the host is what makes it safe to kill at any point,
 * and it reads in one place.
 */
import type { Clock } from '@kok/reconcile';
import type { LastOperation } from '@kok/api';
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../agent-metrics.ts';
import { describeStep, failureReason } from './describe-step.ts';
import type { OperationEvent } from './last-operation.ts';
import { nextOperation, percentDone } from './last-operation.ts';
import type { HealthChecks } from './health-checks.ts';
import { errorMessage } from './error-message.ts';
import type { StatusReporter } from './status-reporter.ts';
import type { AgentHost } from './host.ts';
import { observeHost } from './observe-host.ts';
import { decommissionHost } from './decommission-host.ts';
import type { StepDeps } from './execute-step.ts';
import { executeStep } from './execute-step.ts';
import { recoverHost, sweepStoreLeftovers } from './recovery.ts';
import { StatusObservation } from './status-observation.ts';
import { awaitingOwnReboot, operationStart, remediationDone, remediationScope } from './remediation-plan.ts';
import { ChecksumMismatchError } from '../artifact-store.ts';
import { ArtifactRefusedError, isArtifactRefusal } from '../artifact-limits.ts';
import { endsPass, isDisruptive, planConvergence } from '../convergence-plan.ts';
import type { DesiredComponent, DesiredFile, DesiredState } from '../desired-state.ts';
import type { FileSources } from '../file-sources.ts';
import { readBootID } from '../host-reboot.ts';
import { doneGenerations } from '../remediation.ts';
import { decommissionPhase } from '../decommission.ts';
import { desiredState, inRemediationScope, withoutUnwritableFiles } from '../desired-state.ts';
import { boundedText } from '../bounded-text.ts';
import { lastWrittenFromStatus } from '../published-digest.ts';
import { hostPathProblem } from '../host-paths.ts';
import { withComponents, withCurrentOnChange } from '../host-inventory.ts';
import { withPendingAction } from '../journal.ts';
import type { ComponentObject, MachineObject, NodePoolObject } from '../resources.ts';
import type { AgentStatus } from '../machine-status.ts';

type DisruptionPolicy = NodePoolObject['spec']['disruptionPolicy'];

export interface ConvergencePassDeps {
  readonly machineName: string;
  readonly keepVersions: number | undefined;
  readonly agentVersion: string;
  readonly rebootCommand: string;
  readonly bootIDPath: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly host: AgentHost;
  readonly health: HealthChecks;
  readonly status: StatusReporter;
  readonly events: EventRecorder;
  /** Owns only the Decommissioned condition. */
  readonly decommissionClient: KubeClient;
  readonly fileSources: FileSources;
  /** The agent's Machine, from the cache. */
  readonly machine: () => MachineObject | undefined;
  /** The Component catalog, from the cache. */
  readonly catalog: () => readonly ComponentObject[];
  /** The disruption policy of the Machine's pool. */
  readonly policyFor: (machine: MachineObject) => DisruptionPolicy | undefined;
  /** Asks for another pass. */
  readonly kick: () => void;
}

interface RunState {
  error: { reason: string; message: string } | undefined;
  drift: { paths: string[]; restored: boolean } | undefined;
  operation: LastOperation | undefined;
}

export class ConvergencePass {
  readonly #deps: ConvergencePassDeps;
  /** The reboot generation whose command this process ran: wait for the host to go down, do not run it again. */
  #rebootIssued: number | undefined;
  /** Artifacts refused (by refusalKey), with what the Machine says of each; retried only when the catalog entry changes. */
  readonly #refused = new Map<string, string>();
  readonly #observation: StatusObservation;
  #run: RunState = { error: undefined, drift: undefined, operation: undefined };
  /** Components and files the last plan removes and that are not gone yet: the host is not at its revision. */
  #removing = new Set<string>();
  #recovered = false;
  /** The Machine's component names as of the last pass: whose directories hold the store's temp names. */
  #componentNames: readonly string[] = [];

  constructor(deps: ConvergencePassDeps) {
    this.#deps = deps;
    this.#observation = new StatusObservation({
      host: deps.host,
      health: deps.health,
      bootIDPath: deps.bootIDPath,
      agentVersion: deps.agentVersion,
      clock: deps.clock,
    });
  }

  /** Files the host cannot take at their path (see hostPathProblem), with why. */
  async #unwritableFiles(files: readonly DesiredFile[]): Promise<Map<string, string>> {
    const problems = new Map<string, string>();
    for (const file of files) {
      const problem = await hostPathProblem(this.#deps.host.paths, file.path);
      if (problem) problems.set(file.path, boundedText(problem));
    }
    return problems;
  }

  /** Between passes: temp names that appeared after start-up recovery. */
  async sweepStoreLeftovers(): Promise<void> {
    if (this.#recovered) await sweepStoreLeftovers(this.#deps.host, this.#componentNames);
  }

  /** One pass: observe the Machine and the host, plan, carry out the plan, report. */
  async run(): Promise<void> {
    const machine = this.#deps.machine();
    if (!machine) {
      this.#deps.log.debug('no Machine yet');
      return;
    }
    const catalog = new Map(this.#deps.catalog().map((c) => [c.metadata?.name ?? '', c] as const));
    await this.#deps.fileSources.track(machine.spec?.files ?? []);
    this.#deps.host.nodeIP = machine.spec?.address;
    const resolved = desiredState(
      machine,
      catalog,
      this.#deps.policyFor(machine),
      (file) => this.#deps.fileSources.lookup(file),
      (content) => this.#deps.host.expand(content),
    );
    this.#componentNames = resolved.components.map((c) => c.name);
    const leaving = decommissionPhase(machine);
    if (leaving !== 'member') {
      if (leaving === 'decommission')
        await decommissionHost(
          {
            host: this.#deps.host,
            client: this.#deps.decommissionClient,
            events: this.#deps.events,
            health: this.#deps.health,
            clock: this.#deps.clock,
          },
          machine,
          resolved,
        );
      else this.#deps.log.debug({ phase: leaving }, 'the Machine is leaving; the host changes nothing');
      return;
    }
    // A file the host cannot take (its path is a directory, a parent leaves the root…) is reported, not retried.
    const desired = withoutUnwritableFiles(resolved, await this.#unwritableFiles(resolved.files));
    if (!this.#recovered) {
      await recoverHost(this.#deps.host, desired);
      this.#recovered = true;
    }
    // Recorded before anything of a component is switched on, so a later removal knows what to stop.
    await this.#deps.host.inventory.update((s) =>
      withCurrentOnChange(withComponents(s, desired.components), desired.files),
    );
    this.#deps.health.sync(desired.components);

    const bootID = await readBootID(this.#deps.bootIDPath);
    const journal = this.#deps.host.journal.state;
    if (awaitingOwnReboot({ journal, bootID, rebootIssued: this.#rebootIssued })) return;
    const observed = await observeHost(this.#deps.host, desired, true);
    if (!this.#deps.status.lastWritten)
      for (const [path, sha256] of lastWrittenFromStatus(
        machine.status?.files ?? [],
        desired.files,
        await this.#observation.digestKey(),
      ))
        this.#deps.host.lastWritten.set(path, sha256);
    const refused = new Map<string, string>();
    for (const c of desired.components) if (this.#refused.has(refusalKey(c))) refused.set(c.name, c.version);
    const plan = planConvergence({
      desired,
      observed,
      journal: {
        ...this.#deps.host.journal.state,
        restartGeneration: doneGenerations(this.#deps.host.journal.state, machine.status).restart,
      },
      lastWritten: this.#deps.host.lastWritten,
      refused,
      keepVersions: this.#deps.keepVersions,
      inventory: this.#deps.host.inventory.state,
      named: {
        components: new Set((machine.spec?.components ?? []).map((c) => c.name)),
        files: new Set((machine.spec?.files ?? []).map((f) => f.path)),
      },
      remediation: { spec: machine.spec, status: machine.status, bootID, rebootIssued: this.#rebootIssued },
    });
    const { remediation } = plan;
    // A reboot's operation was started by the agent of the old boot: it goes on from what the status reports.
    if (remediation === 'Reboot') this.#run.operation = machine.status?.lastOperation;
    this.#removing = new Set(
      plan.steps.flatMap((s) =>
        s.kind === 'removeComponent' ? [s.component] : s.kind === 'removeFile' ? [s.path] : [],
      ),
    );

    if (!isDisruptive(plan)) {
      for (const step of plan.steps) {
        await executeStep(this.#stepDeps(), step, plan, desired);
        if (endsPass(step)) return;
      }
      this.#run.drift = this.#run.drift?.restored ? this.#run.drift : undefined;
      if (refused.size === 0 || !isArtifactRefusal(this.#run.error?.reason)) this.#run.error = undefined;
      await this.#recordRemediation(plan.restartGeneration, plan.reinstallGeneration);
      if (remediation)
        this.#recordOperation({
          kind: 'succeeded',
          type: remediation,
          message: remediationDone(remediation, remediationScope(remediation, desired)),
        });
      this.#deps.metrics.converges.inc({ result: 'noop' });
      await this.#writeStatus(machine, desired, false);
      return;
    }

    this.#deps.log.info({ steps: plan.steps.map(describeStep) }, 'converging');
    // A remediation goes on from where an earlier pass took it; an update or a reboot starts with this pass.
    const start = operationStart(plan, desired);
    const { type } = start;
    const operation = nextOperation(this.#run.operation, start, new Date(this.#deps.clock.now()));
    this.#run = { error: undefined, drift: undefined, operation };
    const revisionBefore = (this.#deps.status.lastWritten ?? machine.status)?.revision;
    // Written before the first step: a kill at any point after it leaves no claim of the revision being left.
    await this.#writeStatus(machine, desired, true);
    let hostChanged = false;
    if (plan.restartGeneration !== undefined) {
      const restartable = desired.components
        .filter((c) => c.service && inRemediationScope(c.name, desired.restartComponent))
        .map((c) => c.name);
      await this.#deps.host.journal.update((s) =>
        restartable.reduce((acc, name) => withPendingAction(acc, name, 'restart'), s),
      );
    }
    let done = 0;
    for (const step of plan.steps) {
      try {
        if ((await executeStep(this.#stepDeps(), step, plan, desired)) === 'changed') hostChanged = true;
      } catch (error) {
        if (error instanceof ArtifactRefusedError && step.kind === 'install') {
          await this.#refuse(machine, step.component, error);
        } else {
          const message = boundedText(`${describeStep(step)} failed: ${errorMessage(error)}`);
          this.#run.error = { reason: failureReason(step), message };
          this.#recordOperation({
            kind: 'failed',
            type,
            progress: percentDone(done, plan.steps.length),
            message,
          });
          await this.#writeStatus(machine, desired, false);
          this.#deps.status.failureReported(error);
          throw error;
        }
      }
      if (endsPass(step)) return;
      done++;
      this.#recordOperation({
        kind: 'progressed',
        type,
        progress: percentDone(done, plan.steps.length),
        message: `done: ${describeStep(step)}`,
      });
    }
    await this.#recordRemediation(plan.restartGeneration, plan.reinstallGeneration);
    if (Object.keys(this.#deps.host.journal.state.pending).length === 0)
      await this.#deps.host.journal.update((s) => ({ ...s, touchedDirs: [] }));
    const refusedNow = isArtifactRefusal(this.#run.error?.reason);
    this.#recordOperation(
      refusedNow
        ? { kind: 'failed', type, progress: 100, message: this.#run.error?.message ?? '' }
        : {
            kind: 'succeeded',
            type,
            message: remediation
              ? remediationDone(remediation, remediationScope(remediation, desired))
              : `converged to revision ${desired.revision ?? '(none)'}`,
          },
    );
    this.#deps.metrics.converges.inc({ result: 'changed' });
    await this.#writeStatus(machine, desired, false, hostChanged ? undefined : revisionBefore);
    // Health checks of restarted services decide the next status; a resync picks them up.
  }

  /** Journals the restart and reinstall generations a finished pass carried out. */
  async #recordRemediation(restart: number | undefined, reinstall: number | undefined): Promise<void> {
    await this.#deps.host.journal.update((s) => ({
      ...s,
      ...(restart === undefined ? {} : { restartGeneration: restart }),
      ...(reinstall === undefined ? {} : { reinstallGeneration: reinstall }),
    }));
  }

  #recordOperation(event: OperationEvent): void {
    this.#run.operation = nextOperation(this.#run.operation, event, new Date(this.#deps.clock.now()));
  }

  #stepDeps(): StepDeps {
    return {
      host: this.#deps.host,
      health: this.#deps.health,
      events: this.#deps.events,
      metrics: this.#deps.metrics,
      machine: () => this.#deps.machine(),
      isRefused: (component) => this.#refused.has(refusalKey(component)),
      onDriftRestored: (path) => {
        this.#run.drift = { paths: [...(this.#run.drift?.paths ?? []), path], restored: true };
      },
      onRemoved: (componentOrPath) => this.#removing.delete(componentOrPath),
      rebootCommand: this.#deps.rebootCommand,
      bootIDPath: this.#deps.bootIDPath,
      onRebootIssued: (generation) => {
        this.#rebootIssued = generation;
        this.#deps.kick();
      },
    };
  }

  async #refuse(
    machine: MachineObject,
    component: DesiredComponent,
    error: ArtifactRefusedError,
  ): Promise<void> {
    this.#refused.set(refusalKey(component), `${component.version} ${error.summary}`);
    const message =
      error instanceof ChecksumMismatchError
        ? `${component.name} ${component.version} not installed: artifact ${error.url} has sha256 ${error.actual}, ` +
          `the Component catalog expects ${error.expected}`
        : boundedText(`${component.name} ${component.version}: ${error.message}`);
    if (error instanceof ChecksumMismatchError) {
      this.#deps.metrics.checksumMismatches.inc();
      this.#deps.log.error(
        { component: component.name, expected: error.expected, actual: error.actual },
        message,
      );
    } else this.#deps.log.error({ component: component.name, reason: error.reason }, message);
    this.#run.error = { reason: error.reason, message };
    await this.#deps.events.record(machine, 'Warning', error.reason, 'Install', message);
  }

  async #writeStatus(
    machine: MachineObject,
    desired: DesiredState,
    converging: boolean,
    untouchedRevision?: AgentStatus['revision'],
  ): Promise<void> {
    const status = await this.#observation.status(machine, desired, {
      ...this.#run,
      ...(untouchedRevision && { untouchedRevision }),
      removing: [...this.#removing],
      converging,
      refusal: (component) => this.#refused.get(refusalKey(component)),
      lastWritten: this.#deps.status.lastWritten,
    });
    await this.#deps.status.report(status);
  }
}

/** Any change to the version's artifact in the catalog (its URL, hash, cap or opt-in) lifts a refusal. */
function refusalKey(component: DesiredComponent): string {
  const { url, sha256, maxSizeBytes, allowInsecureHttp } = component.artifact;
  return JSON.stringify([component.name, component.version, url, sha256, maxSizeBytes, allowInsecureHttp]);
}
