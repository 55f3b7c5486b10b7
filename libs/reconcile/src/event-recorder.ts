import { randomBytes } from 'node:crypto';
import type { EventsV1Event, KubernetesObject, V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { builtinTypes } from './builtin-types.ts';
import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import type { KubeClient } from './kube-client.ts';
import { PatchType } from './kube-client.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** reportingController, e.g. `kok.dev/node-operator`. */
  controller: string;
  /** reportingInstance, e.g. the pod name. Default: the host name and pid. */
  instance?: string;
  /** A repeat within this window increments series.count instead of creating an Event. Default 6 min (client-go). */
  seriesWindowMs?: number;
  clock?: Clock;
  /** Failures to record are logged here, never thrown. Default: silent. */
  logger?: Logger;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  lastAt: number;
}

/** MicroTime as the apiserver parses it: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Records events.k8s.io/v1 Events about objects. A repeat of the same
 * (object, type, reason, action, note) increments the existing Event's
 * series.count, so a controller stuck in a loop writes one Event, not thousands.
 */
export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #series = new Map<string, Series>();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? pino({ level: 'silent' });
  }

  /** Never rejects: an Event is best effort and must not fail a reconcile. */
  async record(
    regarding: KubernetesObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    try {
      await this.#record(regarding, type, reason, action, note);
    } catch (error) {
      this.#log.warn({ err: error, reason }, 'could not record event');
    }
  }

  async #record(
    regarding: KubernetesObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const ref = objectReference(regarding);
    const now = this.#clock.now();
    const key = [ref.uid, type, reason, action, note].join('\u0000');
    const window = this.#options.seriesWindowMs ?? 6 * 60_000;
    const existing = this.#series.get(key);
    if (existing && now - existing.lastAt < window) {
      existing.count++;
      existing.lastAt = now;
      await this.#options.client.patch(builtinTypes.event, existing, PatchType.merge, {
        series: { count: existing.count, lastObservedTime: microTime(now) },
      });
      return;
    }
    const namespace = ref.namespace || 'default';
    const name = `${ref.name}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
    const event: EventsV1Event = {
      metadata: { name, namespace },
      eventTime: microTime(now) as unknown as Date,
      reportingController: this.#options.controller,
      reportingInstance: this.#options.instance ?? `${process.env.HOSTNAME ?? 'local'}-${process.pid}`,
      action,
      reason,
      type,
      note: note.slice(0, 1024),
      regarding: ref,
    };
    await this.#options.client.create(builtinTypes.event, event);
    this.#series.set(key, { name, namespace, count: 1, lastAt: now });
    if (this.#series.size > 4096) this.#forgetOlderThan(now - window);
  }

  #forgetOlderThan(cutoff: number): void {
    for (const [key, series] of this.#series) if (series.lastAt < cutoff) this.#series.delete(key);
  }
}

function objectReference(obj: KubernetesObject): V1ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}
