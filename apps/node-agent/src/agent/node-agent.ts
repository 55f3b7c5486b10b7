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
import type { Clock, KubeConnection } from '@kok/reconcile';
import { Controller, EventRecorder, Informer, KubeClient, realClock } from '@kok/reconcile';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { AgentMetrics } from '../agent-metrics.ts';
import { repeatEvery } from './repeat-every.ts';
import { HealthChecks } from './health-checks.ts';
import { StatusReporter } from './status-reporter.ts';
import { ConvergencePass } from './convergence-pass.ts';
import { PassRetries } from './pass-retries.ts';
import { AgentHost } from './host.ts';
import { ArtifactStore } from '../artifact-store.ts';
import { FileSources } from '../file-sources.ts';
import { bootIDPath, DEFAULT_REBOOT_COMMAND } from '../host-reboot.ts';
import type { HostPaths } from '../host-paths.ts';
import { hostPaths } from '../host-paths.ts';
import { HostInventory } from '../host-inventory.ts';
import { Journal } from '../journal.ts';
import type { AgentStatus } from '../machine-status.ts';
import { hostExecution } from '../host-execution.ts';
import { ProcessSupervisor } from '../process-supervisor.ts';
import type { ComponentObject, MachineObject, NodePoolObject } from '../resources.ts';
import { componentType, machineType, nodePoolType } from '../resources.ts';
import type { ServiceManager } from '../service-manager.ts';
import { hostRunner, SystemdServiceManager } from '../systemd.ts';
import type { CommandRunner } from '../systemd.ts';
import { machineChangedForAgent, specChanged } from '../watch-changes.ts';

export interface NodeAgentOptions {
  /** The Machine (and Node) name this agent converges. */
  machineName: string;
  kubeConfig: KubeConnection;
  /** Every host path lives under it. Default `/`. */
  root?: string;
  /** The host's own path of `root` (what `$(KOK_ROOT)` expands to). Default: `root`. */
  rootOnHost?: string;
  /**
   * The agent runs in a container (hostPID): host commands and services run in the mount namespace and
   * cgroups of the host's PID 1. Default false: here.
   */
  enterHostNamespaces?: boolean;
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
  /** Where its metrics go; an agent process that stands by and resumes keeps one. Default: its own. */
  metrics?: AgentMetrics;
  /** Every time the agent reads, waits for or reports. Default: the real one. */
  clock?: Clock;
}

export class NodeAgent {
  readonly metrics: AgentMetrics;
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
  readonly #health: HealthChecks;
  readonly #status: StatusReporter;
  readonly #pass: ConvergencePass;
  readonly #retries: PassRetries;
  /** One key, the Machine's name: passes never overlap, kicks during one collapse into the next, failures retry. */
  readonly #controller: Controller;
  #running: { stop: AbortController; done: Promise<void> } | undefined;
  #timers: (() => void)[] = [];
  #stopped = false;
  #lastPassAt = 0;

  constructor(options: NodeAgentOptions) {
    this.#options = options;
    this.metrics = options.metrics ?? new AgentMetrics();
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
    const execution = hostExecution({
      root: this.paths.root,
      rootOnHost: options.rootOnHost,
      enterHostNamespaces: options.enterHostNamespaces,
    });
    this.#store = new ArtifactStore(this.paths, { keepVersions: options.keepVersions, execution });
    this.#journal = new Journal(this.paths.stateDir);
    this.#inventory = new HostInventory(this.paths.stateDir);
    this.#services =
      (options.serviceManager ?? 'systemd') === 'supervisor'
        ? new ProcessSupervisor({
            runDir: this.paths.runDir,
            logDir: this.paths.logDir,
            logger: this.log,
            execution,
          })
        : new SystemdServiceManager({
            unitDir: this.paths.unitDir,
            runner: options.systemctlRunner ?? hostRunner(execution.command),
          });
    this.#host = new AgentHost({
      machineName: options.machineName,
      paths: this.paths,
      store: this.#store,
      journal: this.#journal,
      inventory: this.#inventory,
      services: this.#services,
      execution,
      log: this.log,
    });
    this.#machines = new Informer({
      client: this.#client,
      type: machineType,
      fieldSelector: `metadata.name=${options.machineName}`,
      logger: this.log,
    });
    this.#components = new Informer({ client: this.#client, type: componentType, logger: this.log });
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
      onHost: execution.command,
      onChange: () => this.kick(),
      gauge: this.metrics.componentHealthy,
      log: this.log,
    });
    this.#pass = new ConvergencePass({
      machineName: options.machineName,
      keepVersions: options.keepVersions,
      agentVersion: options.agentVersion ?? '0.0.0',
      rebootCommand: this.#rebootCommand,
      bootIDPath: this.#bootIDPath,
      clock: this.#clock,
      log: this.log,
      metrics: this.metrics,
      host: this.#host,
      health: this.#health,
      status: this.#status,
      events: this.#events,
      decommissionClient: this.#decommissionClient,
      fileSources: this.#fileSources,
      machine: () => this.#machines.getByName(undefined, options.machineName),
      catalog: () => this.#components.list(),
      policyFor: (machine) => this.#policyFor(machine),
      kick: () => this.kick(),
    });
    this.#retries = new PassRetries(this.#clock, options.retryBaseMs ?? 1000);
    this.#controller = new Controller({
      name: 'node-agent',
      reconcile: () => this.#runPass(),
      rateLimiter: this.#retries,
      clock: this.#clock,
      logger: this.log,
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
    if (this.#stopped) return;
    const stop = new AbortController();
    // A pass is never aborted halfway: stopping waits for the one under way, however long it takes.
    this.#running = { stop, done: this.#controller.run(stop.signal, Number.POSITIVE_INFINITY) };
    this.#every(this.#options.resyncIntervalMs ?? 60_000, () => this.#periodicKick());
    this.#every(this.#options.heartbeatIntervalMs ?? 300_000, () => this.#periodicKick());
    this.kick();
  }

  /** Stops watching and checking; services keep running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const stop of this.#timers) stop();
    this.#health.stop();
    this.#running?.stop.abort();
    await this.#running?.done;
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
    this.#controller.enqueue({ name: this.#options.machineName });
  }

  /** A resync or heartbeat: nothing changed, so after a failed pass it waits for the retry (which does both). */
  #periodicKick(): void {
    if (!this.#retries.isRetryPending()) this.kick();
  }

  /** One pass, as the controller runs it: a failure is reported here, and thrown so that it is retried. */
  async #runPass(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#pass.run();
      await this.#pass.sweepStoreLeftovers();
    } catch (error) {
      this.metrics.converges.inc({ result: 'failed' });
      await this.#reportFailedPass(error);
      throw error;
    } finally {
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

  #every(ms: number, fn: () => void): void {
    this.#timers.push(repeatEvery(this.#clock, ms, fn));
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
}
