import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { isConflict, isNotFound } from './api-errors.ts';
import { builtinTypes } from './builtin-types.ts';
import type { Clock } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import { microTime } from './event-recorder.ts';
import type { KubeClient } from './kube-client.ts';

export interface LeaderElectionOptions {
  client: KubeClient;
  /** The coordination.k8s.io/v1 Lease to hold. */
  lease: { namespace: string; name: string };
  /** This candidate's holderIdentity; unique per process. */
  identity: string;
  /** How long others wait, after the last renewal they saw, before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between acquire and renew attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the lease when stepping down gracefully, so a successor need not wait. Default true. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  logger?: Logger;
}

/**
 * client-go's leader election on a Lease. Only locally observed time is
 * compared, so clock skew between candidates does not matter; like client-go
 * it does not fence: keep leaseDuration comfortably above renewDeadline.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'clock' | 'logger'>>;
  readonly #clock: Clock;
  readonly #log: Logger;
  // What we last saw in the lease, and when we (locally) saw it change.
  #observed: { holder: string; renewTime: string } | undefined;
  #observedAt = 0;
  #leader = false;

  constructor(options: LeaderElectionOptions) {
    // `??` per field, not a spread: callers pass options through as explicit undefined.
    this.#o = {
      client: options.client,
      lease: options.lease,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      releaseOnCancel: options.releaseOnCancel ?? true,
    };
    if (this.#o.leaseDurationMs <= this.#o.renewDeadlineMs) {
      throw new Error(
        `leaseDuration (${this.#o.leaseDurationMs} ms) must be greater than renewDeadline (${this.#o.renewDeadlineMs} ms)`,
      );
    }
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({
      lease: `${options.lease.namespace}/${options.lease.name}`,
      identity: options.identity,
    });
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /**
   * Campaigns until `signal` aborts. While leading, runs `lead(leadership)`;
   * `leadership` aborts the moment the lease is lost or `signal` aborts.
   * Resolves after stepping down (and releasing the lease if configured):
   * 'lost' if renewal failed, 'stopped' if `signal` ended it.
   */
  async run(
    signal: AbortSignal,
    lead: (leadership: AbortSignal) => Promise<void> | void,
  ): Promise<'lost' | 'stopped'> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) break;
      await sleep(this.#clock, this.#o.retryPeriodMs * (1 + 0.2 * Math.random()), signal);
    }
    if (signal.aborted) return 'stopped';
    this.#leader = true;
    this.#log.info('became leader');
    const leadership = new AbortController();
    const onStop = (): void => leadership.abort();
    signal.addEventListener('abort', onStop, { once: true });
    const leading = Promise.resolve()
      .then(() => lead(leadership.signal))
      .catch((error: unknown) => this.#log.error({ err: error }, 'leader work failed'));
    const outcome = await this.#renewLoop(signal);
    this.#leader = false;
    leadership.abort();
    signal.removeEventListener('abort', onStop);
    this.#log.info({ outcome }, outcome === 'lost' ? 'lost leadership' : 'stepping down');
    await leading;
    if (outcome === 'stopped' && this.#o.releaseOnCancel) await this.#release();
    return outcome;
  }

  async #renewLoop(signal: AbortSignal): Promise<'lost' | 'stopped'> {
    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, this.#o.retryPeriodMs, signal);
      if (signal.aborted) break;
      // Each attempt must finish before the renew deadline, or we step down.
      const remaining = lastRenew + this.#o.renewDeadlineMs - this.#clock.now();
      const attempt = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, remaining))]);
      if (await this.#tryAcquireOrRenew(attempt)) lastRenew = this.#clock.now();
      else if (this.#clock.now() - lastRenew >= this.#o.renewDeadlineMs)
        return signal.aborted ? 'stopped' : 'lost';
    }
    return 'stopped';
  }

  /** One attempt; true if we hold the lease afterwards. Never throws. */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { client, lease, identity } = this.#o;
    const now = this.#clock.now();
    const spec = (acquireTime: string, transitions: number): V1Lease['spec'] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      acquireTime: acquireTime as unknown as Date,
      renewTime: microTime(now) as unknown as Date,
      leaseTransitions: transitions,
    });
    try {
      let current: V1Lease;
      try {
        current = await client.get(builtinTypes.lease, lease, signal);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await client.create(
          builtinTypes.lease,
          { metadata: { ...lease }, spec: spec(microTime(now), 0) },
          signal,
        );
        this.#observe(identity, microTime(now));
        return true;
      }
      const holder = current.spec?.holderIdentity ?? '';
      const renewTime = String(current.spec?.renewTime ?? '');
      if (this.#observed?.holder !== holder || this.#observed.renewTime !== renewTime)
        this.#observe(holder, renewTime);
      const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (holder && holder !== identity && this.#observedAt + durationMs > now) return false;
      const mine = holder === identity;
      const transitions = (current.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1);
      const acquireTime = mine ? String(current.spec?.acquireTime ?? microTime(now)) : microTime(now);
      // PUT with the resourceVersion we read: a concurrent candidate makes this a Conflict.
      await client.replace(
        builtinTypes.lease,
        { metadata: current.metadata, spec: spec(acquireTime, transitions) },
        signal,
      );
      this.#observe(identity, microTime(now));
      return true;
    } catch (error) {
      if (!isConflict(error)) this.#log.warn({ err: error }, 'could not acquire or renew the lease');
      return false;
    }
  }

  #observe(holder: string, renewTime: string): void {
    this.#observed = { holder, renewTime };
    this.#observedAt = this.#clock.now();
  }

  /** Clears the holder so another candidate can take over at once. */
  async #release(): Promise<void> {
    const { client, lease, identity } = this.#o;
    try {
      const current = await client.get(builtinTypes.lease, lease);
      if (current.spec?.holderIdentity !== identity) return;
      const now = microTime(this.#clock.now());
      await client.replace(builtinTypes.lease, {
        metadata: current.metadata,
        spec: {
          leaseDurationSeconds: 1,
          acquireTime: now as unknown as Date,
          renewTime: now as unknown as Date,
          leaseTransitions: current.spec?.leaseTransitions ?? 0,
        },
      });
      this.#log.info('released the lease');
    } catch (error) {
      this.#log.warn({ err: error }, 'could not release the lease; others take over after leaseDuration');
    }
  }
}
