import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ControllerOptions } from './controller.ts';
import { Controller } from './controller.ts';
import { EventRecorder } from './event-recorder.ts';
import type { InformerOptions } from './informer.ts';
import { Informer } from './informer.ts';
import type { KubeClientOptions } from './kube-client.ts';
import { KubeClient } from './kube-client.ts';
import { LeaderElector } from './leader-election.ts';
import { MetricsAccessReview } from './metrics-access.ts';
import { FrameworkMetrics } from './metrics.ts';
import type { ResourceType } from './resource-type.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** Client rate limits and field manager. Defaults: see KubeClientOptions. */
  client?: KubeClientOptions;
  /** Run controllers only while holding this Lease. Default: no leader election. */
  leaderElection?: {
    namespace: string;
    name: string;
    /** Default: `<hostname>_<pid>`. */
    identity?: string;
    /** Defaults 15 s / 10 s / 2 s (controller-runtime's). */
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /**
   * Address of /healthz, /readyz and /metrics. Default port 8080 on 0.0.0.0; port 0 picks a free one.
   * With `authorizeMetrics`, /metrics answers only a bearer token whose user may `get` the non-resource
   * URL /metrics (metrics-access.ts); the health endpoints stay open. Default: /metrics open to anyone.
   */
  http?: { host?: string; port?: number; authorizeMetrics?: boolean } | false;
  /** How long in-flight reconciles may run after shutdown begins. Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** Give up if caches have not synced by then. Default 2 min (controller-runtime's CacheSyncTimeout). */
  cacheSyncTimeoutMs?: number;
  /** JSON logs. Default: pino at info to stdout. */
  logger?: Logger;
}

/**
 * Runs an operator: shared informers, controllers (under leader election if
 * configured), health and metrics endpoints, and graceful shutdown.
 */
export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly metrics = new FrameworkMetrics();
  readonly #options: ManagerOptions;
  readonly #informers = new Map<string, Informer<KubernetesObject>>();
  readonly #controllers: Controller[] = [];
  readonly #stop = new AbortController();
  #server: FastifyInstance | undefined;
  #elector: LeaderElector | undefined;
  #synced = false;
  #leadershipLost = false;
  #running: Promise<void> | undefined;
  #shuttingDown: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.log = options.logger ?? pino();
    this.client = new KubeClient(options.kubeConfig, options.client);
  }

  /** The shared informer for a type and selection (one watch per distinct selection). */
  informer<T extends KubernetesObject>(
    type: ResourceType<T>,
    options: Omit<InformerOptions<T>, 'client' | 'type' | 'logger'> = {},
  ): Informer<T> {
    const key = JSON.stringify([
      type.apiVersion,
      type.kind,
      options.namespace,
      options.labelSelector,
      options.fieldSelector,
    ]);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer<T>({
        ...options,
        client: this.client,
        type,
        logger: this.log,
      }) as unknown as Informer<KubernetesObject>;
      this.#informers.set(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  /** Registers a controller; wire its watches before start(). */
  controller(options: Omit<ControllerOptions, 'logger' | 'metrics'>): Controller {
    const controller = new Controller({ ...options, logger: this.log, metrics: this.metrics });
    this.#controllers.push(controller);
    return controller;
  }

  eventRecorder(controller: string): EventRecorder {
    return new EventRecorder({ client: this.client, controller, logger: this.log });
  }

  isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#synced;
  }

  /** Address the HTTP server listens on, once started. */
  address(): string | undefined {
    const addr = this.#server?.server.address();
    return addr && typeof addr === 'object' ? `http://${addr.address}:${addr.port}` : undefined;
  }

  /**
   * Starts everything and resolves once caches are synced and controllers are
   * running (or campaigning). done() resolves when the manager has stopped.
   */
  async start(): Promise<void> {
    if (this.#running) throw new Error('manager already started');
    await this.#serveHttp();
    const informers = this.#allInformers();
    informers.forEach((i) => i.start());
    const syncTimeout = AbortSignal.timeout(this.#options.cacheSyncTimeoutMs ?? 120_000);
    const synced = await Promise.all(
      informers.map((i) => i.waitForSync(AbortSignal.any([syncTimeout, this.#stop.signal]))),
    );
    if (synced.includes(false)) {
      const missing = informers.filter((i) => !i.hasSynced()).map((i) => i.type.kind);
      await this.stop();
      throw new Error(
        `caches did not sync within the timeout: ${missing.join(', ')}; is the apiserver reachable and are list/watch permitted?`,
      );
    }
    this.#synced = true;
    this.log.info({ informers: informers.length }, 'caches synced');
    this.#running = this.#runControllers();
  }

  async #runControllers(): Promise<void> {
    const graceMs = this.#options.gracefulShutdownTimeoutMs ?? 30_000;
    const runAll = (signal: AbortSignal): Promise<void> =>
      Promise.all(this.#controllers.map((c) => c.run(signal, graceMs))).then(() => undefined);
    const le = this.#options.leaderElection;
    if (!le) return runAll(this.#stop.signal);
    this.#elector = new LeaderElector({
      client: this.client,
      lease: { namespace: le.namespace, name: le.name },
      identity: le.identity ?? `${hostname()}_${process.pid}`,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      logger: this.log,
    });
    const outcome = await this.#elector.run(this.#stop.signal, runAll);
    if (outcome === 'lost') {
      // Like controller-runtime: a manager that lost its lease exits and is restarted, rather than risk split brain.
      // Not through stop(): that waits for this very run to end. Its controllers have returned already.
      this.log.error('leader election lost; stopping the manager');
      this.#leadershipLost = true;
      this.#stop.abort();
      await this.#shutDown();
    }
  }

  /** True once the manager stopped because it lost its lease: its process should exit with an error. */
  get leadershipLost(): boolean {
    return this.#leadershipLost;
  }

  /** Resolves when the manager has stopped. */
  async done(): Promise<void> {
    await this.#running;
  }

  /** Stops controllers (in-flight reconciles get the grace period), releases the lease, stops caches and HTTP. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#shutDown();
  }

  /** Once, whether the manager stopped on request or because it lost its lease (a later stop() finds it done). */
  #shutDown(): Promise<void> {
    this.#shuttingDown ??= this.#closeEverything();
    return this.#shuttingDown;
  }

  async #closeEverything(): Promise<void> {
    await Promise.all(this.#allInformers().map((i) => i.stop()));
    await this.#server?.close();
    this.#server = undefined;
    this.client.close();
  }

  /** Informers made here plus any a controller was given directly. */
  #allInformers(): Informer<KubernetesObject>[] {
    return [...new Set([...this.#informers.values(), ...this.#controllers.flatMap((c) => c.informers())])];
  }

  /** Stops gracefully on SIGTERM and SIGINT. */
  stopOnSignals(): void {
    const onSignal = (signal: string): void => {
      this.log.info({ signal }, 'shutting down');
      void this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  async #serveHttp(): Promise<void> {
    const http = this.#options.http;
    if (http === false) return;
    // Loaded here: a process that serves no HTTP (the node agent) should not carry fastify.
    const { fastify } = await import('fastify');
    const server = fastify({ logger: false });
    server.get('/healthz', async () => 'ok');
    server.get('/readyz', async (_, reply) => {
      if (!this.#synced) return reply.code(503).send('caches not synced');
      return 'ok';
    });
    this.metrics.collectProcessMetrics();
    const access = http?.authorizeMetrics ? new MetricsAccessReview(this.client) : undefined;
    server.get('/metrics', async (request, reply) => {
      const decision = await access?.review(request.headers.authorization);
      if (decision && !decision.allowed) {
        this.log.debug({ status: decision.status, reason: decision.reason }, 'metrics request refused');
        if (decision.status === 401) reply.header('www-authenticate', 'Bearer');
        return reply.code(decision.status).send(decision.reason);
      }
      reply.header('content-type', this.metrics.registry.contentType);
      return this.metrics.registry.metrics();
    });
    await server.listen({ host: http?.host ?? '0.0.0.0', port: http?.port ?? 8080 });
    this.#server = server;
  }
}
