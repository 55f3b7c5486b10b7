/**
 * Per-component health: an exec or HTTP probe, and a tracker that turns a
 * stream of probe results into Unknown → Healthy / Failed the way Kubernetes
 * probes do (failureThreshold consecutive failures).
 */
import type { Component } from '@kok/api';
import { timerDelay } from '@kok/reconcile/timer-delay';
import { boundedText } from './bounded-text.ts';
import { runHostCommand } from './host-command.ts';
import { httpGet } from './http-get.ts';

export type HealthCheckSpec = NonNullable<Component['spec']['healthCheck']>;
export type Health = 'Unknown' | 'Healthy' | 'Failed';

export interface ProbeResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface HealthCheckTimings {
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly initialDelayMs: number;
}

/** A check's seconds as timer delays: a spec value beyond what a timer holds waits long instead of firing at once. */
export function healthCheckTimings(check: HealthCheckSpec): HealthCheckTimings {
  return {
    periodMs: Math.max(1000, timerDelay((check.periodSeconds ?? 10) * 1000)),
    timeoutMs: Math.max(1000, timerDelay((check.timeoutSeconds ?? 5) * 1000)),
    initialDelayMs: timerDelay((check.initialDelaySeconds ?? 0) * 1000),
  };
}

/**
 * Runs one probe; `expand` substitutes host variables in commands and URLs, `onHost` says where an exec
 * check's command runs (default: here).
 */
export async function probe(
  check: HealthCheckSpec,
  expand: (text: string) => string,
  onHost?: (argv: readonly string[]) => string[],
): Promise<ProbeResult> {
  const { timeoutMs } = healthCheckTimings(check);
  if (check.exec) {
    const result = await runHostCommand(check.exec.command, expand, timeoutMs, onHost);
    if (result.ok) return { ok: true, message: 'exec check passed' };
    const detail = result.lastLine ? `: ${result.lastLine}` : '';
    return { ok: false, message: `exec check ${result.failure}${detail}` };
  }
  if (check.http) {
    const url = expand(check.http.url);
    try {
      const response = await httpGet(url, AbortSignal.timeout(timeoutMs));
      response.body.resume();
      return response.ok
        ? { ok: true, message: `GET ${url}: ${response.status}` }
        : { ok: false, message: `GET ${url}: HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, message: `GET ${url}: ${boundedText((error as Error).message)}` };
    }
  }
  return { ok: true, message: 'no check' };
}

/**
 * Consecutive-failure bookkeeping for one component. After a (re)start the
 * process gets `initialDelayMs` before a failure counts, and a probe that began
 * before the restart is dropped: it judged the old process.
 */
export class HealthTracker {
  readonly #threshold: number;
  readonly #initialDelayMs: number;
  #failures = 0;
  #health: Health = 'Unknown';
  #message = 'not checked yet';
  #startedAt: number;
  #epoch = 0;

  constructor(failureThreshold = 3, initialDelayMs = 0, now = Date.now()) {
    this.#threshold = Math.max(1, failureThreshold);
    this.#initialDelayMs = Math.max(0, initialDelayMs);
    this.#startedAt = now;
  }

  get health(): Health {
    return this.#health;
  }

  get message(): string {
    return this.#message;
  }

  /** Identifies the process generation a probe is about to judge; pass it back to `record`. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Records a probe; returns true when the health changed. */
  record(result: ProbeResult, epoch = this.#epoch, now = Date.now()): boolean {
    if (epoch !== this.#epoch) return false;
    const before = this.#health;
    if (result.ok) {
      this.#message = result.message;
      this.#failures = 0;
      this.#health = 'Healthy';
    } else if (this.#health !== 'Healthy' && now - this.#startedAt < this.#initialDelayMs) {
      // Still starting up: not a failure yet, but say what the check sees.
      this.#message = `starting up: ${result.message}`;
    } else {
      this.#message = result.message;
      this.#failures++;
      if (this.#failures >= this.#threshold) this.#health = 'Failed';
    }
    return before !== this.#health;
  }

  /** After a (re)start, the old verdict no longer applies. */
  reset(now = Date.now()): void {
    this.#epoch++;
    this.#startedAt = now;
    this.#failures = 0;
    this.#health = 'Unknown';
    this.#message = 'restarted; not checked yet';
  }
}
