import type { IncomingMessage } from 'node:http';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ApiStatus } from './api-errors.ts';
import { apiErrorFrom, GoneError, TooManyRequestsError } from './api-errors.ts';
import type { BackoffOptions } from './backoff.ts';
import { Backoff } from './backoff.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import type { KubeClient } from './kube-client.ts';
import type { Transform } from './object-transform.ts';
import { deepFreeze, trimForCache } from './object-transform.ts';
import type { ResourceType } from './resource-type.ts';
import { objectKey, resourcePath } from './resource-type.ts';
import { resourceVersionAtLeast } from './resource-version.ts';
import type { IndexFunc } from './store.ts';
import { builtinIndexers, IndexedStore } from './store.ts';

/** Callbacks for cache changes. Objects are frozen; handlers should only enqueue. */
export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** Receives the last state the cache knew (it may be stale if the delete was missed while disconnected). */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  client: KubeClient;
  type: ResourceType<T>;
  /** Watch one namespace. Default: all namespaces. */
  namespace?: string;
  /** Server-side label selector. Default: none. */
  labelSelector?: string;
  /** Server-side field selector. Default: none. */
  fieldSelector?: string;
  /** Applied to every object before it is cached. Default trimForCache (drops managedFields, Node images). */
  transform?: Transform<T>;
  /** Extra indexes next to the built-in namespace, ownerUid and label ones. Default: none. */
  indexers?: Record<string, IndexFunc<T>>;
  /** List page size. Default 500. */
  pageSize?: number;
  /** Each watch asks the server to end it after a random time in this range. Default 300–600 s (client-go). */
  watchTimeoutSeconds?: { min: number; max: number };
  /** A watch that delivers nothing (not even a bookmark) this long is restarted. Default 5 min. */
  inactivityTimeoutMs?: number;
  /** Restart pacing after errors. Default 800 ms → 30 s, reset after 2 min healthy. */
  backoff?: BackoffOptions;
  /** Default: the real clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

/** Counters for health checks and metrics. */
export interface InformerStats {
  lists: number;
  watches: number;
  bookmarks: number;
  errors: number;
  /** Clock time of the last list or watch event (ms); 0 before the first. */
  lastEventAt: number;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubernetesObject | ApiStatus;
}

/** Thrown inside the watch loop when the watchdog gives up on a silent stream. */
class InactiveWatch extends Error {}

/**
 * A list-watch cache of one resource type (client-go's reflector plus
 * indexer): pages through a list, then watches from its resourceVersion with
 * bookmarks, resuming after every disconnect and relisting when the
 * resourceVersion is gone. Objects in the cache are frozen.
 */
export class Informer<T extends KubernetesObject> {
  readonly type: ResourceType<T>;
  readonly #options: InformerOptions<T>;
  readonly #store: IndexedStore<T>;
  readonly #handlers = new Set<EventHandler<T>>();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #transform: Transform<T>;
  readonly #backoff: Backoff;
  #resourceVersion: string | undefined;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, bookmarks: 0, errors: 0, lastEventAt: 0 };

  constructor(options: InformerOptions<T>) {
    this.type = options.type;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ informer: options.type.kind });
    this.#transform = options.transform ?? trimForCache;
    this.#backoff = new Backoff(options.backoff);
    this.#store = new IndexedStore<T>({
      ...(builtinIndexers as Record<string, IndexFunc<T>>),
      ...options.indexers,
    });
  }

  /**
   * Starts listing and watching in the background; idempotent. After stop()
   * it resumes from the last resourceVersion and keeps the cached objects.
   */
  start(): void {
    if (this.#running) return;
    this.#abort = new AbortController();
    this.#running = this.#run(this.#abort.signal);
  }

  /** Stops the watch and waits for the loop to end. The cache keeps its contents. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  /** True once the first full list is in the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true when synced, false if stopped or `signal` aborted first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return true;
    if (signal?.aborted) return false;
    await new Promise<void>((resolve) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    return this.#synced;
  }

  /** The resourceVersion the next watch resumes from. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /**
   * Registers handlers. Objects already cached are replayed as adds, so a
   * late handler sees the same world as an early one. Returns an unsubscribe.
   */
  addEventHandler(handler: EventHandler<T>): () => void {
    this.#handlers.add(handler);
    if (handler.onAdd) for (const obj of this.#store.values()) this.#call(() => handler.onAdd?.(obj));
    return () => this.#handlers.delete(handler);
  }

  /**
   * Resolves true once the cache shows each written object (key → the resourceVersion its write
   * returned) at that version or newer, or the watch passed that version without it (deleted since);
   * false after `timeoutMs` (default 10 s) or when `signal` aborts. A planner waits here after writing
   * so that its next plan does not redo what it just did. Woken by the written objects' events.
   */
  async waitFor(
    written: ReadonlyMap<string, string>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const isBehind = (key: string): boolean => {
      const cached = this.#store.get(key);
      // Not cached: created and not seen yet, or deleted since; how far the watch got tells which.
      const seen = cached ? cached.metadata?.resourceVersion : this.#resourceVersion;
      return !resourceVersionAtLeast(seen, written.get(key) ?? '');
    };
    const behind = new Set([...written.keys()].filter(isBehind));
    if (behind.size === 0) return true;
    const { signal } = options;
    if (signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const finish = (caughtUp: boolean): void => {
        this.#handlers.delete(handler);
        this.#clock.cancelTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(caughtUp);
      };
      const onChange = (obj: T): void => {
        const key = objectKey(obj);
        if (!behind.has(key)) return;
        // Once the event is handled: the informer records its resourceVersion after the handlers ran.
        queueMicrotask(() => {
          if (behind.has(key) && !isBehind(key)) behind.delete(key);
          if (behind.size === 0) finish(true);
        });
      };
      const handler: EventHandler<T> = {
        onAdd: onChange,
        onUpdate: (_, obj) => onChange(obj),
        onDelete: onChange,
      };
      const onAbort = (): void => finish(false);
      const timer = this.#clock.setTimer(() => finish(false), options.timeoutMs ?? 10_000);
      // Not addEventHandler: that would replay the whole cache as adds.
      this.#handlers.add(handler);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.#store.values()] : this.#store.byIndex('namespace', namespace);
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    return this.#store.byIndex(indexName, value);
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#listAndReplace(signal);
        await this.#watch(signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof GoneError) {
          this.#log.info({ resourceVersion: this.#resourceVersion }, 'resourceVersion too old; relisting');
          this.#resourceVersion = undefined;
          continue;
        }
        this.stats.errors++;
        let delay = this.#backoff.next(this.#clock.now());
        if (error instanceof TooManyRequestsError && error.retryAfterSeconds !== undefined) {
          delay = Math.max(delay, error.retryAfterSeconds * 1000);
        }
        this.#log.warn(
          { err: error, retryInMs: Math.round(delay) },
          `list/watch of ${this.type.kind} failed; retrying`,
        );
        await sleep(this.#clock, delay, signal);
      }
    }
  }

  #selectors(): { labelSelector?: string; fieldSelector?: string } {
    return { labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector };
  }

  #prepare(raw: T): T {
    // List items come without apiVersion/kind; stamp them so transforms and handlers can rely on them.
    raw.apiVersion ??= this.type.apiVersion;
    raw.kind ??= this.type.kind;
    return deepFreeze(this.#transform(raw));
  }

  async #listAndReplace(signal: AbortSignal): Promise<void> {
    // Items are trimmed page by page: the raw list is never held whole.
    const items: T[] = [];
    const resourceVersion = await this.#options.client.listEach(
      this.type,
      {
        namespace: this.#options.namespace,
        ...this.#selectors(),
        limit: this.#options.pageSize ?? 500,
        signal,
      },
      (raw) => items.push(this.#prepare(raw)),
    );
    if (signal.aborted) return;
    this.stats.lists++;
    this.stats.lastEventAt = this.#clock.now();
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const previous = this.#store.upsert(obj);
      if (!previous) this.#emit('add', obj);
      else if (previous.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#emit('update', obj, previous);
    }
    for (const key of [...this.#store.keys()]) {
      if (seen.has(key)) continue;
      const gone = this.#store.remove(key);
      if (gone) this.#emit('delete', gone);
    }
    this.#resourceVersion = resourceVersion;
    this.#log.debug({ count: items.length, resourceVersion }, 'listed');
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /** One watch request: resolves when the server ends it, throws on errors. */
  async #watch(outer: AbortSignal): Promise<void> {
    const range = this.#options.watchTimeoutSeconds ?? { min: 300, max: 600 };
    const timeoutSeconds = Math.floor(range.min + Math.random() * (range.max - range.min));
    const controller = new AbortController();
    const signal = AbortSignal.any([outer, controller.signal]);
    const path = resourcePath(this.type, { namespace: this.#options.namespace });
    const response: IncomingMessage = await this.#options.client.stream(
      path,
      {
        watch: 1,
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        ...this.#selectors(),
      },
      signal,
    );
    this.stats.watches++;
    const inactivityMs = this.#options.inactivityTimeoutMs ?? 300_000;
    let watchdog: TimerHandle | undefined;
    let inactive = false;
    const arm = (): void => {
      if (watchdog) this.#clock.cancelTimer(watchdog);
      watchdog = this.#clock.setTimer(() => {
        inactive = true;
        controller.abort(new InactiveWatch(`no watch event for ${inactivityMs} ms`));
      }, inactivityMs);
    };
    arm();
    let buffered = '';
    try {
      response.setEncoding('utf8');
      for await (const chunk of response as AsyncIterable<string>) {
        arm();
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim()) this.#handleWatchEvent(JSON.parse(line) as WatchEvent, path);
        }
      }
    } catch (error) {
      if (inactive) {
        this.#log.info({ inactivityMs }, 'watch silent too long; restarting it');
        return;
      }
      throw error;
    } finally {
      if (watchdog) this.#clock.cancelTimer(watchdog);
      response.destroy();
    }
  }

  #handleWatchEvent(event: WatchEvent, path: string): void {
    this.stats.lastEventAt = this.#clock.now();
    if (event.type === 'ERROR') {
      const status = event.object as ApiStatus;
      throw apiErrorFrom(status.code ?? 500, status, `watch ${path}`);
    }
    const raw = event.object as T;
    const resourceVersion = raw.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (resourceVersion) this.#resourceVersion = resourceVersion;
      return;
    }
    const obj = this.#prepare(raw);
    const key = objectKey(obj);
    if (event.type === 'DELETED') {
      const previous = this.#store.remove(key);
      this.#emit('delete', previous ?? obj);
    } else {
      const previous = this.#store.upsert(obj);
      if (previous) this.#emit('update', obj, previous);
      else this.#emit('add', obj);
    }
    if (resourceVersion) this.#resourceVersion = resourceVersion;
  }

  #emit(kind: 'add' | 'update' | 'delete', obj: T, previous?: T): void {
    for (const handler of this.#handlers) {
      this.#call(() => {
        if (kind === 'add') handler.onAdd?.(obj);
        else if (kind === 'update') handler.onUpdate?.(previous as T, obj);
        else handler.onDelete?.(obj);
      });
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      // A faulty handler must not break the cache for everyone else.
      this.#log.error({ err: error }, 'event handler threw');
    }
  }
}
