/**
 * The node agent: watches its own Machine, resolves it through the Component
 * catalog, converges the host (observe → plan → apply, one pass at a time)
 * and reports what is really there.
 *
 * Rollback split: the agent only ever converges to what spec says. Whether to
 * go back to an older version is the node-operator's decision, made by
 * setting spec back; the agent never undoes anything behind the API's back.
 * It keeps the previous version unpacked so that such a rollback is fast.
 */
import { runVersionCheck } from '../version-check.ts';
import type { VersionCheckSpec, VersionReport } from '../version-check.ts';
import type { Clock, KubeConnection, TimerHandle } from '@kok/reconcile';
import type { LastOperation } from '@kok/api';
import { EventRecorder, Informer, KubeClient, realClock } from '@kok/reconcile';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { AgentMetrics } from '../agent-metrics.ts';
import { describeStep, failureReason } from './describe-step.ts';
import type { OperationEvent } from './last-operation.ts';
import { nextOperation, percentDone } from './last-operation.ts';
import { repeatEvery } from './repeat-every.ts';
import { HealthChecks } from './health-checks.ts';
import { errorMessage } from './error-message.ts';
import { StatusReporter } from './status-reporter.ts';
import { AgentHost } from './host.ts';
import { observeHost } from './observe-host.ts';
import { decommissionHost } from './decommission-host.ts';
import type { StepDeps } from './execute-step.ts';
import { executeStep } from './execute-step.ts';
import {
  planRemediation,
  remediationDone,
  remediationScope,
  remediationUnderway,
} from './remediation-plan.ts';
import { removeTempLeftovers } from '../atomic-file.ts';
import { ArtifactStore, ChecksumMismatchError } from '../artifact-store.ts';
import { ArtifactRefusedError, isArtifactRefusal } from '../artifact-limits.ts';
import { isDisruptive, planConvergence } from '../convergence-plan.ts';
import type { DesiredComponent, DesiredFile, DesiredState } from '../desired-state.ts';
import { FileSources } from '../file-sources.ts';
import {
  bootIDPath,
  DEFAULT_REBOOT_COMMAND,
  readBootID,
  runRebootCommand,
  simulateNewBoot,
  SIMULATE_REBOOT,
} from '../host-reboot.ts';
import { doneGenerations } from '../remediation.ts';
import { decommissionPhase } from '../decommission.ts';
import { desiredState, inRemediationScope, withoutUnwritableFiles } from '../desired-state.ts';
import { boundedText } from '../bounded-text.ts';
import { keyedDigestOfFile, lastWrittenFromStatus, loadDigestKey } from '../published-digest.ts';
import type { HostPaths } from '../host-paths.ts';
import { hostPathProblem, hostPaths } from '../host-paths.ts';
import { HostInventory, withComponents, withCurrentOnChange } from '../host-inventory.ts';
import { Journal, withPendingAction } from '../journal.ts';
import type { AgentStatus, ComponentObservation } from '../machine-status.ts';
import { agentStatus } from '../machine-status.ts';
import { ProcessSupervisor } from '../process-supervisor.ts';
import type { ComponentObject, MachineObject, NodePoolObject } from '../resources.ts';
import { componentType, machineType, nodePoolType } from '../resources.ts';
import type { ServiceManager } from '../service-manager.ts';
import { SystemdServiceManager } from '../systemd.ts';
import type { CommandRunner } from '../systemd.ts';
import { machineChangedForAgent, specChanged } from '../watch-changes.ts';

export interface NodeAgentOptions {
  /** The Machine (and Node) name this agent converges. */
  machineName: string;
  kubeConfig: KubeConnection;
  /** Every host path lives under it. Default `/`. */
  root?: string;
  /** `systemd` on real hosts; `supervisor` runs services as child processes (tests, demos). Default `systemd`. */
  serviceManager?: 'systemd' | 'supervisor';
  /** Runs systemctl for the systemd service manager. Default: a child process. */
  systemctlRunner?: CommandRunner;
  /** Component versions kept on disk, the current one included. Default 2. */
  keepVersions?: number;
  /** A status is written at least this often even when nothing changed; after a failed pass, at its retry. Default 5 min. */
  heartbeatIntervalMs?: number;
  /** How often the host is re-observed (drift, dead services) without any API change; after a failed pass, at its retry. Default 60 s. */
  resyncIntervalMs?: number;
  /** First retry delay after a failed pass; doubles up to 5 min. Default 1 s. */
  retryBaseMs?: number;
  /** Reported in status.agent.version. Default 0.0.0. */
  agentVersion?: string;
  /** Client rate limits. Default 5 qps, burst 10: one agent of ten thousand needs little. */
  qps?: number;
  /**
   * Run through `sh -c` when spec.rebootGeneration asks for a reboot. `simulate` (tests, demos) stops every
   * service, gives the host a new boot ID under the root, and starts them again. Default `systemctl reboot`.
   */
  rebootCommand?: string;
  /** Default: pino at info. */
  logger?: Logger;
  /** Every time the agent reads, waits for or reports. Default: the real one. */
  clock?: Clock;
}

interface RunState {
  error: { reason: string; message: string } | undefined;
  drift: { paths: string[]; restored: boolean } | undefined;
  operation: LastOperation | undefined;
}

export class NodeAgent {
  readonly metrics = new AgentMetrics();
  readonly paths: HostPaths;
  readonly log: Logger;
  readonly #options: NodeAgentOptions;
  readonly #clock: Clock;
  readonly #client: KubeClient;
  /** Owns only the Decommissioned condition. */
  readonly #decommissionClient: KubeClient;
  readonly #events: EventRecorder;
  readonly #store: ArtifactStore;
  readonly #journal: Journal;
  readonly #inventory: HostInventory;
  readonly #services: ServiceManager;
  readonly #host: AgentHost;
  readonly #machines: Informer<MachineObject>;
  readonly #components: Informer<ComponentObject>;
  #pool: { name: string; informer: Informer<NodePoolObject> } | undefined;
  readonly #fileSources: FileSources;
  readonly #rebootCommand: string;
  readonly #bootIDPath: string;
  /** The reboot generation whose command this process ran: wait for the host to go down, do not run it again. */
  #rebootIssued: number | undefined;
  readonly #health: HealthChecks;
  /** Artifacts refused (by refusalKey), with what the Machine says of each; retried only when the catalog entry changes. */
  readonly #refused = new Map<string, string>();
  /** spec.versionCheck results, by component, installed version and check: run once per installed version. */
  readonly #versionReports = new Map<string, VersionReport>();
  readonly #status: StatusReporter;
  /** Keys the digests of Secret files in status (see published-digest.ts). */
  #digestKey: Promise<Buffer> | undefined;
  #run: RunState = { error: undefined, drift: undefined, operation: undefined };
  /** Components and files the last plan removes and that are not gone yet: the host is not at its revision. */
  #removing = new Set<string>();
  #recovered = false;
  /** The Machine's component names as of the last pass: whose directories hold the store's temp names. */
  #componentNames: readonly string[] = [];
  #dirty = false;
  #looping: Promise<void> | undefined;
  #retryMs: number;
  /** The retry of a failed pass, while one is scheduled: periodic kicks wait for it. */
  #retry: TimerHandle | undefined;
  #timers: (() => void)[] = [];
  #stopped = false;
  #lastPassAt = 0;

  constructor(options: NodeAgentOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.log = (options.logger ?? pino()).child({ machine: options.machineName });
    this.paths = hostPaths(options.root ?? '/');
    this.#client = new KubeClient(options.kubeConfig, {
      qps: options.qps ?? 5,
      burst: (options.qps ?? 5) * 2,
      fieldManager: 'kok-node-agent',
      userAgent: 'kok-node-agent',
    });
    this.#decommissionClient = new KubeClient(options.kubeConfig, {
      qps: 1,
      burst: 2,
      fieldManager: 'kok-node-agent-decommission',
      userAgent: 'kok-node-agent',
    });
    this.#events = new EventRecorder({
      client: this.#client,
      controller: 'nodes.kok.dev/node-agent',
      instance: options.machineName,
      logger: this.log,
    });
    this.#store = new ArtifactStore(this.paths, { keepVersions: options.keepVersions });
    this.#journal = new Journal(this.paths.stateDir);
    this.#inventory = new HostInventory(this.paths.stateDir);
    this.#services =
      (options.serviceManager ?? 'systemd') === 'supervisor'
        ? new ProcessSupervisor({ runDir: this.paths.runDir, logDir: this.paths.logDir, logger: this.log })
        : new SystemdServiceManager({ unitDir: this.paths.unitDir, runner: options.systemctlRunner });
    this.#host = new AgentHost({
      machineName: options.machineName,
      paths: this.paths,
      store: this.#store,
      journal: this.#journal,
      inventory: this.#inventory,
      services: this.#services,
      log: this.log,
    });
    this.#machines = new Informer({
      client: this.#client,
      type: machineType,
      fieldSelector: `metadata.name=${options.machineName}`,
      logger: this.log,
    });
    this.#components = new Informer({ client: this.#client, type: componentType, logger: this.log });
    this.#retryMs = options.retryBaseMs ?? 1000;
    this.#fileSources = new FileSources(this.#client, () => this.kick(), this.log);
    this.#rebootCommand = options.rebootCommand ?? DEFAULT_REBOOT_COMMAND;
    this.#bootIDPath = bootIDPath(this.paths, this.#rebootCommand);
    this.#status = new StatusReporter({
      clock: this.#clock,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 300_000,
      agentVersion: options.agentVersion ?? '0.0.0',
      write: (status) => this.#applyStatus(status),
      writes: this.metrics.statusWrites,
      log: this.log,
    });
    this.#health = new HealthChecks({
      clock: this.#clock,
      expand: (text) => this.#host.expand(text),
      onChange: () => this.kick(),
      gauge: this.metrics.componentHealthy,
      log: this.log,
    });
    // Own status writes and others' status updates come back through these watches: only inputs start a pass.
    this.#machines.addEventHandler({
      onAdd: () => this.kick(),
      onUpdate: (before, after) => {
        if (machineChangedForAgent(before, after)) this.kick();
      },
      onDelete: () => this.kick(),
    });
    this.#components.addEventHandler({
      onAdd: () => this.kick(),
      onUpdate: (before, after) => {
        if (specChanged(before, after)) this.kick();
      },
      onDelete: () => this.kick(),
    });
  }

  get serviceManager(): ServiceManager {
    return this.#services;
  }

  /** True once the caches are synced and a pass finished recently (or none was needed). */
  isHealthy(): boolean {
    return this.#machines.hasSynced() && this.#components.hasSynced() && !this.#stopped;
  }

  lastPassAt(): number {
    return this.#lastPassAt;
  }

  async start(): Promise<void> {
    this.#machines.start();
    this.#components.start();
    const synced = await Promise.all([this.#machines.waitForSync(), this.#components.waitForSync()]);
    if (synced.includes(false)) throw new Error('node agent stopped before its caches synced');
    this.#every(this.#options.resyncIntervalMs ?? 60_000, () => this.#periodicKick());
    this.#every(this.#options.heartbeatIntervalMs ?? 300_000, () => this.#periodicKick());
    this.kick();
  }

  /** Stops watching and checking; services keep running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const stop of this.#timers) stop();
    if (this.#retry) this.#clock.cancelTimer(this.#retry);
    this.#health.stop();
    await this.#looping;
    await Promise.all([
      this.#machines.stop(),
      this.#components.stop(),
      this.#pool?.informer.stop(),
      this.#fileSources.stop(),
    ]);
    await this.#services.close();
    this.#client.close();
  }

  /**
   * Asks for a convergence pass, at once: something it reads changed. Passes never overlap and repeated kicks
   * collapse.
   */
  kick(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#looping ??= this.#loop().finally(() => (this.#looping = undefined));
  }

  /** A resync or heartbeat: nothing changed, so after a failed pass it waits for the retry (which does both). */
  #periodicKick(): void {
    if (this.#retry === undefined) this.kick();
  }

  #scheduleRetry(): void {
    if (this.#retry) this.#clock.cancelTimer(this.#retry);
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 300_000);
    this.#retry = this.#clock.setTimer(() => {
      this.#retry = undefined;
      this.kick();
    }, wait);
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      try {
        await this.#converge();
        await this.#sweepStoreLeftovers();
        this.#retryMs = this.#options.retryBaseMs ?? 1000;
        if (this.#retry) this.#clock.cancelTimer(this.#retry);
        this.#retry = undefined;
      } catch (error) {
        this.metrics.converges.inc({ result: 'failed' });
        this.log.error({ err: error, retryInMs: this.#retryMs }, 'convergence pass failed; retrying');
        await this.#reportFailedPass(error);
        this.#scheduleRetry();
      }
      this.#lastPassAt = this.#clock.now();
    }
  }

  async #reportFailedPass(error: unknown): Promise<void> {
    const machine = this.#machines.getByName(undefined, this.#options.machineName);
    if (!machine || this.#stopped) return;
    await this.#status.reportFailedPass(error, {
      status: machine.status as AgentStatus | undefined,
      generation: machine.metadata?.generation,
    });
  }

  /** Server-side apply of the agent's part of the status, under its own field manager. */
  async #applyStatus(status: AgentStatus): Promise<void> {
    await this.#client.applyStatus(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name: this.#options.machineName },
      status,
    } as MachineObject);
  }

  /** Files the host cannot take at their path (see hostPathProblem), with why. */
  async #unwritableFiles(files: readonly DesiredFile[]): Promise<Map<string, string>> {
    const problems = new Map<string, string>();
    for (const file of files) {
      const problem = await hostPathProblem(this.paths, file.path);
      if (problem) problems.set(file.path, boundedText(problem));
    }
    return problems;
  }

  #hostDigestKey(): Promise<Buffer> {
    this.#digestKey ??= loadDigestKey(this.paths.stateDir).catch((error: unknown) => {
      this.#digestKey = undefined;
      throw error;
    });
    return this.#digestKey;
  }

  #every(ms: number, fn: () => void): void {
    this.#timers.push(repeatEvery(this.#clock, ms, fn));
  }

  /**
   * Between passes no install of this agent is under way, so a temp name in the store is a leftover that
   * start-up recovery could not see yet: e.g. a `tar` a SIGKILLed agent had started, still unpacking.
   */
  async #sweepStoreLeftovers(): Promise<void> {
    if (!this.#recovered) return;
    try {
      const removed = await this.#store.removeLeftovers(this.#componentNames);
      if (removed.length) this.log.warn({ removed }, 'removed temp leftovers that appeared after start-up');
    } catch (error) {
      this.log.warn({ err: error }, 'could not remove temp leftovers; trying again after the next pass');
    }
  }

  async #recover(desired: DesiredState): Promise<void> {
    const journal = await this.#journal.load();
    await this.#inventory.load();
    const removed = [
      ...(await this.#store.removeLeftovers(desired.components.map((c) => c.name))),
      ...(await Promise.all(journal.touchedDirs.map((dir) => removeTempLeftovers(dir)))).flat(),
      // The agent's own state (journal, digest key) is written the same atomic way, so a kill can leave a temp.
      ...(await removeTempLeftovers(this.paths.stateDir)),
    ];
    if (removed.length) this.log.info({ removed }, 'removed leftovers of an interrupted run');
    if (this.#services instanceof ProcessSupervisor) {
      const adopted = await this.#services.adopt();
      if (adopted.length) this.log.info({ adopted }, 'took over running services');
    }
    if (Object.keys(journal.pending).length)
      this.log.info({ pending: journal.pending }, 'resuming service actions a previous run owed');
    this.#recovered = true;
  }

  /** The disruption policy of the Machine's pool, from a watch of that one NodePool. */
  #policyFor(machine: MachineObject) {
    const pool = machine.spec?.pool;
    if (!pool) return undefined;
    if (this.#pool?.name !== pool) {
      void this.#pool?.informer.stop();
      const informer = new Informer({
        client: this.#client,
        type: nodePoolType,
        fieldSelector: `metadata.name=${pool}`,
        logger: this.log,
      });
      informer.addEventHandler({
        onAdd: () => this.kick(),
        onUpdate: (before, after) => {
          if (specChanged(before, after)) this.kick();
        },
      });
      informer.start();
      this.#pool = { name: pool, informer };
    }
    return this.#pool.informer.getByName(undefined, pool)?.spec.disruptionPolicy;
  }

  async #converge(): Promise<void> {
    const machine = this.#machines.getByName(undefined, this.#options.machineName);
    if (!machine) {
      this.log.debug('no Machine yet');
      return;
    }
    const catalog = new Map(this.#components.list().map((c) => [c.metadata?.name ?? '', c] as const));
    await this.#fileSources.track(machine.spec?.files ?? []);
    this.#host.nodeIP = machine.spec?.address;
    const resolved = desiredState(
      machine,
      catalog,
      this.#policyFor(machine),
      (file) => this.#fileSources.lookup(file),
      (content) => this.#host.expand(content),
    );
    this.#componentNames = resolved.components.map((c) => c.name);
    const leaving = decommissionPhase(machine);
    if (leaving !== 'member') {
      if (leaving === 'decommission')
        await decommissionHost(
          {
            host: this.#host,
            client: this.#decommissionClient,
            events: this.#events,
            health: this.#health,
            clock: this.#clock,
          },
          machine,
          resolved,
        );
      else this.log.debug({ phase: leaving }, 'the Machine is leaving; the host changes nothing');
      return;
    }
    // A file the host cannot take (its path is a directory, a parent leaves the root…) is reported, not retried.
    const desired = withoutUnwritableFiles(resolved, await this.#unwritableFiles(resolved.files));
    if (!this.#recovered) await this.#recover(desired);
    // Recorded before anything of a component is switched on, so a later removal knows what to stop.
    await this.#inventory.update((s) =>
      withCurrentOnChange(withComponents(s, desired.components), desired.files),
    );
    this.#health.sync(desired.components);

    const bootID = await readBootID(this.#bootIDPath);
    const { reboot, reinstallGeneration, remediation } = planRemediation({
      spec: machine.spec,
      status: machine.status,
      journal: this.#journal.state,
      bootID,
      rebootIssued: this.#rebootIssued,
    });
    if (reboot.kind === 'wait') return;
    if (reboot.kind === 'reboot') return this.#reboot(machine, desired, reboot.generation, bootID);
    if (reboot.kind === 'completed') await this.#rebootCompleted(machine, reboot.generation, bootID);
    if (reinstallGeneration !== undefined) await this.#reinstall(machine, desired, reinstallGeneration);

    const observed = await observeHost(this.#host, desired, true);
    if (!this.#status.lastWritten)
      for (const [path, sha256] of lastWrittenFromStatus(
        machine.status?.files ?? [],
        desired.files,
        await this.#hostDigestKey(),
      ))
        this.#host.lastWritten.set(path, sha256);
    const refused = new Map<string, string>();
    for (const c of desired.components) if (this.#refused.has(refusalKey(c))) refused.set(c.name, c.version);
    const plan = planConvergence({
      desired,
      observed,
      journal: {
        ...this.#journal.state,
        restartGeneration: doneGenerations(this.#journal.state, machine.status).restart,
      },
      lastWritten: this.#host.lastWritten,
      refused,
      keepVersions: this.#options.keepVersions,
      inventory: this.#inventory.state,
      named: {
        components: new Set((machine.spec?.components ?? []).map((c) => c.name)),
        files: new Set((machine.spec?.files ?? []).map((f) => f.path)),
      },
    });
    this.#removing = new Set(
      plan.steps.flatMap((s) =>
        s.kind === 'removeComponent' ? [s.component] : s.kind === 'removeFile' ? [s.path] : [],
      ),
    );

    if (!isDisruptive(plan)) {
      for (const step of plan.steps) await executeStep(this.#stepDeps(), step, plan, desired);
      this.#run.drift = this.#run.drift?.restored ? this.#run.drift : undefined;
      if (refused.size === 0 || !isArtifactRefusal(this.#run.error?.reason)) this.#run.error = undefined;
      await this.#recordRemediation(plan.restartGeneration, reinstallGeneration);
      if (remediation)
        this.#recordOperation({
          kind: 'succeeded',
          type: remediation,
          message: remediationDone(remediation, remediationScope(remediation, desired)),
        });
      this.metrics.converges.inc({ result: 'noop' });
      await this.#writeStatus(machine, desired, false);
      return;
    }

    this.log.info({ steps: plan.steps.map(describeStep) }, 'converging');
    const type = remediation ?? 'Update';
    // A remediation goes on from where an earlier pass took it; an update starts with this pass.
    const operation = nextOperation(
      this.#run.operation,
      remediation
        ? {
            kind: 'progressed',
            type,
            progress: 0,
            message: remediationUnderway(remediation, remediationScope(remediation, desired)),
          }
        : {
            kind: 'started',
            type,
            progress: 0,
            message: `converging to revision ${desired.revision ?? '(none)'}`,
          },
      new Date(this.#clock.now()),
    );
    this.#run = { error: undefined, drift: undefined, operation };
    await this.#writeStatus(machine, desired, true);
    if (plan.restartGeneration !== undefined) {
      const restartable = desired.components
        .filter((c) => c.service && inRemediationScope(c.name, desired.restartComponent))
        .map((c) => c.name);
      await this.#journal.update((s) =>
        restartable.reduce((acc, name) => withPendingAction(acc, name, 'restart'), s),
      );
    }
    let done = 0;
    for (const step of plan.steps) {
      try {
        await executeStep(this.#stepDeps(), step, plan, desired);
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
          this.#status.failureReported(error);
          throw error;
        }
      }
      done++;
      this.#recordOperation({
        kind: 'progressed',
        type,
        progress: percentDone(done, plan.steps.length),
        message: `done: ${describeStep(step)}`,
      });
    }
    await this.#recordRemediation(plan.restartGeneration, reinstallGeneration);
    if (Object.keys(this.#journal.state.pending).length === 0)
      await this.#journal.update((s) => ({ ...s, touchedDirs: [] }));
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
    this.metrics.converges.inc({ result: 'changed' });
    await this.#writeStatus(machine, desired, false);
    // Health checks of restarted services decide the next status; a resync picks them up.
  }

  /** Journals the restart and reinstall generations a finished pass carried out. */
  async #recordRemediation(restart: number | undefined, reinstall: number | undefined): Promise<void> {
    await this.#journal.update((s) => ({
      ...s,
      ...(restart === undefined ? {} : { restartGeneration: restart }),
      ...(reinstall === undefined ? {} : { reinstallGeneration: reinstall }),
    }));
  }

  #recordOperation(event: OperationEvent): void {
    this.#run.operation = nextOperation(this.#run.operation, event, new Date(this.#clock.now()));
  }

  /** The host came back with a new boot ID: the reboot's generation is done; this pass starts every service. */
  async #rebootCompleted(machine: MachineObject, generation: number, bootID: string): Promise<void> {
    await this.#journal.update((s) => ({ ...s, reboot: undefined, rebootGeneration: generation }));
    // What the status says: the agent that issued the reboot is gone with the old boot.
    this.#run.operation = nextOperation(
      machine.status?.lastOperation,
      {
        kind: 'progressed',
        type: 'Reboot',
        progress: 50,
        message: `host is back (boot ID ${bootID}); starting every service`,
      },
      new Date(this.#clock.now()),
    );
    this.log.info({ generation, bootID }, 'host rebooted');
    await this.#events.record(machine, 'Normal', 'Rebooted', 'Reboot', `host is back with boot ID ${bootID}`);
  }

  /** Carries out spec.rebootGeneration: journaled with the boot ID first, so the next boot knows it is done. */
  async #reboot(
    machine: MachineObject,
    desired: DesiredState,
    generation: number,
    bootID: string,
  ): Promise<void> {
    await this.#journal.update((s) => ({ ...s, reboot: { generation, bootIDBefore: bootID } }));
    this.#recordOperation({
      kind: 'started',
      type: 'Reboot',
      progress: 0,
      message: `rebooting for rebootGeneration ${generation} (boot ID ${bootID})`,
    });
    await this.#writeStatus(machine, desired, true);
    await this.#events.record(
      machine,
      'Normal',
      'Rebooting',
      'Reboot',
      `rebootGeneration ${generation}: ${this.#rebootCommand}`,
    );
    this.log.warn({ generation, command: this.#rebootCommand }, 'rebooting the host');
    try {
      if (this.#rebootCommand === SIMULATE_REBOOT) await this.#simulateReboot(desired);
      else await runRebootCommand(this.#rebootCommand);
    } catch (error) {
      const message = boundedText(errorMessage(error));
      this.#run.error = { reason: 'RebootFailed', message };
      this.#recordOperation({ kind: 'failed', type: 'Reboot', progress: 0, message });
      await this.#writeStatus(machine, desired, false);
      this.#status.failureReported(error);
      throw error;
    }
    this.#rebootIssued = generation;
    this.kick();
  }

  /** A reboot as the host's services see it: all stop, the boot ID changes, the next pass starts them. */
  async #simulateReboot(desired: DesiredState): Promise<void> {
    for (const component of desired.components)
      if (component.service) await this.#services.stop(this.#host.serviceDefinitionOrName(component));
    this.#health.resetAll();
    await simulateNewBoot(this.#bootIDPath);
  }

  /**
   * Carries out spec.reinstallGeneration: the desired version of every component (or of
   * spec.reinstallComponent only) downloaded and unpacked again, then restarted.
   */
  async #reinstall(machine: MachineObject, desired: DesiredState, generation: number): Promise<void> {
    const scope = desired.reinstallComponent;
    this.#recordOperation({
      kind: 'started',
      type: 'Reinstall',
      progress: 0,
      message: `reinstalling ${scope ?? 'every component'} for reinstallGeneration ${generation}`,
    });
    await this.#writeStatus(machine, desired, true);
    const targets = desired.components.filter((c) => inRemediationScope(c.name, scope));
    const services = targets.filter((c) => c.service).map((c) => c.name);
    // Journaled first: a crash after a version is replaced still restarts its service.
    await this.#journal.update((s) =>
      services.reduce((acc, name) => withPendingAction(acc, name, 'restart'), s),
    );
    for (const c of targets) {
      if (this.#refused.has(refusalKey(c))) continue;
      await this.#store.reinstall(c.name, c.version, c.artifact, this.#host.expandInstall(c.install));
      this.log.info({ component: c.name, version: c.version }, 'reinstalled');
    }
  }

  #stepDeps(): StepDeps {
    return {
      host: this.#host,
      health: this.#health,
      events: this.#events,
      metrics: this.metrics,
      machine: () => this.#machines.getByName(undefined, this.#options.machineName),
      isRefused: (component) => this.#refused.has(refusalKey(component)),
      onDriftRestored: (path) => {
        this.#run.drift = { paths: [...(this.#run.drift?.paths ?? []), path], restored: true };
      },
      onRemoved: (componentOrPath) => this.#removing.delete(componentOrPath),
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
      this.metrics.checksumMismatches.inc();
      this.log.error({ component: component.name, expected: error.expected, actual: error.actual }, message);
    } else this.log.error({ component: component.name, reason: error.reason }, message);
    this.#run.error = { reason: error.reason, message };
    await this.#events.record(machine, 'Warning', error.reason, 'Install', message);
  }

  async #versionReport(
    component: string,
    installed: string,
    check: VersionCheckSpec,
  ): Promise<VersionReport> {
    const key = JSON.stringify([component, installed, check]);
    const known = this.#versionReports.get(key);
    if (known) return known;
    const report = await runVersionCheck(check, (text) => this.#host.expand(text));
    this.#versionReports.set(key, report);
    this.log.info({ component, installed, ...report }, 'version check');
    return report;
  }

  async #writeStatus(machine: MachineObject, desired: DesiredState, converging: boolean): Promise<void> {
    const observed = await observeHost(this.#host, desired);
    const components = new Map<string, ComponentObservation>();
    for (const c of desired.components) {
      const seen = observed.components.get(c.name);
      const tracker = this.#health.tracker(c.name);
      components.set(c.name, {
        current: seen?.current,
        running: seen?.running,
        health: tracker?.health ?? 'Unknown',
        hasHealthCheck: tracker !== undefined,
        healthMessage: tracker?.message ?? '',
        refusal: this.#refused.get(refusalKey(c)),
        ...(c.versionCheck && seen?.current
          ? { versionReport: await this.#versionReport(c.name, seen.current, c.versionCheck) }
          : {}),
      });
    }
    const keyedDigests = new Map<string, string | undefined>();
    for (const f of desired.files)
      if (f.secret)
        keyedDigests.set(
          f.path,
          await keyedDigestOfFile(await this.#hostDigestKey(), this.paths.host(f.path)),
        );
    const status = agentStatus({
      desired,
      components,
      files: new Map([...observed.files].map(([path, f]) => [path, f.sha256] as const)),
      keyedDigests,
      error: this.#run.error,
      removing: [...this.#removing],
      drift: this.#run.drift,
      converging,
      operation: this.#run.operation,
      // What this agent last wrote is fresher than the cache, which may not have seen that write yet.
      previous: {
        ...machine.status,
        components: this.#status.lastWritten?.components ?? machine.status?.components,
      },
      remediated: doneGenerations(this.#journal.state, machine.status),
      bootID: await readBootID(this.#bootIDPath).catch(() => undefined),
      agentVersion: this.#options.agentVersion ?? '0.0.0',
      generation: machine.metadata?.generation,
      now: new Date(this.#clock.now()),
    });
    await this.#status.report(status);
  }
}

/** Any change to the version's artifact in the catalog (its URL, hash, cap or opt-in) lifts a refusal. */
function refusalKey(component: DesiredComponent): string {
  const { url, sha256, maxSizeBytes, allowInsecureHttp } = component.artifact;
  return JSON.stringify([component.name, component.version, url, sha256, maxSizeBytes, allowInsecureHttp]);
}
