import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Clock, TimerHandle } from './clock.ts';
import { realClock } from './clock.ts';
import type { Informer } from './informer.ts';
import type { FrameworkMetrics } from './metrics.ts';
import type { Predicate } from './predicates.ts';
import { passes } from './predicates.ts';
import type { RateLimiter } from './rate-limiters.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';
import { objectKey, parseObjectKey } from './resource-type.ts';

/** What to reconcile: the name of one primary object, never the event that led here. */
export interface Request {
  namespace?: string;
  name: string;
}

export interface Result {
  /** Reconcile this request again after this many ms (the retry history is forgotten). */
  requeueAfter?: number;
}

export interface ReconcileContext {
  /** Child logger carrying controller, request and reconcileID. */
  log: Logger;
  reconcileID: string;
  /** Aborted when the controller must stop (shutdown deadline, lost leadership). */
  signal: AbortSignal;
}

/** Level-based: read the world for `request`, make it right, say when to look again. */
export type Reconciler = (request: Request, ctx: ReconcileContext) => Promise<Result | void> | Result | void;

/** A failure that retrying cannot fix (invalid spec…): logged and counted, not requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export interface ControllerOptions {
  /** Names logs, metrics and the queue. */
  name: string;
  reconcile: Reconciler;
  /** Requests reconciled at once (never two for the same key). Default 1. */
  maxConcurrentReconciles?: number;
  /** Retry pacing. Default: max of per-item exponential 5 ms→1000 s and a 10 qps/100 burst bucket. */
  rateLimiter?: RateLimiter<string>;
  /** Every primary object is re-enqueued this often, ±10 % jitter. Default 10 h (controller-runtime's SyncPeriod); 0 turns it off. */
  resyncPeriodMs?: number;
  /** Default: the real clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** Default: no metrics. */
  metrics?: FrameworkMetrics;
}

interface Watch {
  informer: Informer<KubernetesObject>;
  toRequests: (obj: KubernetesObject) => Request[];
  predicates: Predicate[];
}

const keyOf = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

/**
 * Turns watch events into deduplicated keys and runs the reconciler on them
 * with retries (controller-runtime's controller): errors requeue rate-limited,
 * TerminalError does not, `requeueAfter` schedules the next look.
 */
export class Controller {
  readonly name: string;
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #watches: Watch[] = [];
  #primary: Informer<KubernetesObject> | undefined;
  #queue: RateLimitingQueue<string> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ controller: options.name });
  }

  /** The primary kind (controller-runtime For): each object's own key is reconciled. */
  watchPrimary<T extends KubernetesObject>(informer: Informer<T>, ...predicates: Predicate<T>[]): this {
    this.#primary = informer as unknown as Informer<KubernetesObject>;
    return this.#watch(informer, (obj) => [parseObjectKey(objectKey(obj))], predicates);
  }

  /**
   * Objects this controller creates (Owns): events reconcile the owner named by
   * their controller ownerReference when it is of the primary kind.
   */
  watchOwned<T extends KubernetesObject>(
    informer: Informer<T>,
    owner: { apiVersion: string; kind: string },
    ...predicates: Predicate<T>[]
  ): this {
    return this.#watch(
      informer,
      (obj) =>
        (obj.metadata?.ownerReferences ?? [])
          .filter(
            (ref) => ref.controller && ref.kind === owner.kind && sameGroup(ref.apiVersion, owner.apiVersion),
          )
          .map((ref) => ({ namespace: obj.metadata?.namespace, name: ref.name })),
      predicates,
    );
  }

  /** Any other kind (Watches with a map function): `map` names the requests an event concerns. */
  watchMapped<T extends KubernetesObject>(
    informer: Informer<T>,
    map: (obj: T) => Request[],
    ...predicates: Predicate<T>[]
  ): this {
    return this.#watch(informer, map, predicates);
  }

  #watch<T extends KubernetesObject>(
    informer: Informer<T>,
    toRequests: (obj: T) => Request[],
    predicates: Predicate<T>[],
  ): this {
    this.#watches.push({
      informer: informer as unknown as Informer<KubernetesObject>,
      toRequests: toRequests as (obj: KubernetesObject) => Request[],
      predicates: predicates as Predicate[],
    });
    return this;
  }

  /** Informers this controller reads; the manager starts and syncs them. */
  informers(): Informer<KubernetesObject>[] {
    return [...new Set(this.#watches.map((w) => w.informer))];
  }

  /** Enqueues a request by hand (while running). */
  enqueue(request: Request): void {
    this.#queue?.add(keyOf(request));
  }

  /**
   * Reconciles until `signal` aborts, then stops taking work and waits for
   * in-flight reconciles; after `shutdownTimeoutMs` (default 30 s) it aborts
   * their context signals and returns.
   */
  async run(signal: AbortSignal, shutdownTimeoutMs = 30_000): Promise<void> {
    const metrics = this.#options.metrics;
    metrics?.registerController(this.name);
    const queue = new RateLimitingQueue<string>({
      clock: this.#clock,
      rateLimiter: this.#options.rateLimiter,
      metrics: metrics?.workQueueMetrics(this.name),
    });
    metrics?.trackQueue(this.name, queue as RateLimitingQueue<unknown>);
    this.#queue = queue;
    const hardStop = new AbortController();
    const unsubscribe = this.#watches.map((w) => w.informer.addEventHandler(this.#handlerFor(w, queue)));
    const resync = this.#scheduleResync(queue);
    this.#log.info({ workers: this.#options.maxConcurrentReconciles ?? 1 }, 'starting workers');
    const stopping = { value: false };
    const workers = Array.from({ length: this.#options.maxConcurrentReconciles ?? 1 }, () =>
      this.#worker(queue, stopping, hardStop.signal),
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#log.info({ inFlight: queue.processingCount() }, 'stopping: waiting for in-flight reconciles');
    stopping.value = true;
    unsubscribe.forEach((u) => u());
    resync.cancel();
    queue.shutDown();
    let deadline: TimerHandle | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = realClock.setTimer(() => {
        this.#log.warn({ shutdownTimeoutMs }, 'in-flight reconciles did not finish in time; aborting them');
        hardStop.abort();
        resolve();
      }, shutdownTimeoutMs);
    });
    await Promise.race([Promise.all(workers), timedOut]);
    if (deadline) realClock.cancelTimer(deadline);
    this.#queue = undefined;
  }

  #handlerFor(
    w: Watch,
    queue: RateLimitingQueue<string>,
  ): Parameters<Informer<KubernetesObject>['addEventHandler']>[0] {
    const enqueue = (obj: KubernetesObject): void => {
      for (const r of w.toRequests(obj)) queue.add(keyOf(r));
    };
    return {
      onAdd: (obj) => {
        if (w.predicates.every((p) => passes(p, { kind: 'create', obj }))) enqueue(obj);
      },
      onUpdate: (oldObj, obj) => {
        if (!w.predicates.every((p) => passes(p, { kind: 'update', oldObj, obj }))) return;
        enqueue(oldObj);
        enqueue(obj);
      },
      onDelete: (obj) => {
        if (w.predicates.every((p) => passes(p, { kind: 'delete', obj }))) enqueue(obj);
      },
    };
  }

  #scheduleResync(queue: RateLimitingQueue<string>): { cancel(): void } {
    const period = this.#options.resyncPeriodMs ?? 10 * 60 * 60_000;
    let timer: TimerHandle | undefined;
    const arm = (): void => {
      timer = this.#clock.setTimer(
        () => {
          for (const key of this.#primary?.keys() ?? []) queue.add(key);
          arm();
        },
        period * (0.9 + 0.2 * Math.random()),
      );
    };
    if (period > 0 && this.#primary) arm();
    return { cancel: () => timer && this.#clock.cancelTimer(timer) };
  }

  async #worker(
    queue: RateLimitingQueue<string>,
    stopping: { value: boolean },
    hardStop: AbortSignal,
  ): Promise<void> {
    for (;;) {
      const next = await queue.get();
      if (next.shutdown) return;
      if (stopping.value) {
        queue.done(next.item);
        return;
      }
      try {
        await this.#reconcileOne(queue, next.item, hardStop);
      } finally {
        queue.done(next.item);
      }
    }
  }

  async #reconcileOne(queue: RateLimitingQueue<string>, key: string, signal: AbortSignal): Promise<void> {
    const request = parseObjectKey(key);
    const reconcileID = randomUUID();
    const log = this.#log.child({ request: key, reconcileID });
    const metrics = this.#options.metrics;
    const labels = { controller: this.name };
    const started = performance.now();
    metrics?.activeWorkers.inc(labels);
    let outcome: string;
    try {
      const result = (await this.#options.reconcile(request, { log, reconcileID, signal })) ?? {};
      if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
        queue.forget(key);
        queue.addAfter(key, result.requeueAfter);
        outcome = 'requeue_after';
      } else {
        queue.forget(key);
        outcome = 'success';
      }
    } catch (error) {
      metrics?.reconcileErrors.inc(labels);
      if (!(error instanceof Error)) metrics?.reconcilePanics.inc(labels);
      if (error instanceof TerminalError) {
        queue.forget(key);
        outcome = 'terminal_error';
        log.error({ err: error }, 'reconcile failed terminally; not retrying');
      } else {
        queue.addRateLimited(key);
        outcome = 'error';
        log.error({ err: error, retries: queue.numRequeues(key) }, 'reconcile failed; will retry');
      }
    } finally {
      metrics?.activeWorkers.dec(labels);
    }
    metrics?.reconcileDuration.observe(labels, (performance.now() - started) / 1000);
    metrics?.reconcileTotal.inc({ ...labels, result: outcome });
  }
}

/** ownerReference apiVersions may differ in version; ownership is by group and kind. */
function sameGroup(a: string, b: string): boolean {
  const group = (v: string): string => (v.includes('/') ? v.slice(0, v.lastIndexOf('/')) : '');
  return group(a) === group(b);
}
