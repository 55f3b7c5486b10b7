/**
 * What the agent writes to its Machine's status, and when: a status is
 * written when it says something new, or as a heartbeat once the last write
 * is older than the heartbeat interval; never twice the same in between.
 */
import type { Clock } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { boundedText } from '../bounded-text.ts';
import type { AgentStatus } from '../machine-status.ts';
import { shouldWriteStatus, withFailedPass } from '../machine-status.ts';
import { errorMessage } from './error-message.ts';

export type StatusWriteReason = 'change' | 'heartbeat';

/** Why `next` is to be written after `last`, or undefined when it need not be. Pure. */
export function statusWriteReason(
  next: AgentStatus,
  last: { readonly status: AgentStatus; readonly at: number } | undefined,
  now: number,
  heartbeatMs: number,
): StatusWriteReason | undefined {
  if (!shouldWriteStatus(next, last, now, heartbeatMs)) return undefined;
  return last !== undefined && !shouldWriteStatus(next, last, now, Infinity) ? 'heartbeat' : 'change';
}

export interface StatusReporterOptions {
  readonly clock: Clock;
  readonly heartbeatIntervalMs: number;
  readonly agentVersion: string;
  /** Writes the agent's part of the status (server-side apply). */
  readonly write: (status: AgentStatus) => Promise<void>;
  /** kok_node_agent_status_writes_total. */
  readonly writes: Counter<'reason'>;
  readonly log: Logger;
}

export class StatusReporter {
  readonly #options: StatusReporterOptions;
  #last: { status: AgentStatus; at: number } | undefined;
  /** The error of the last failed pass once the status already says why: not reported a second time. */
  #reportedFailure: unknown;

  constructor(options: StatusReporterOptions) {
    this.#options = options;
  }

  /** What this agent last wrote: fresher than a cache that may not have seen the write yet. */
  get lastWritten(): AgentStatus | undefined {
    return this.#last?.status;
  }

  /** Writes `status` if it says something new or a heartbeat is due; a failed write throws. */
  async report(status: AgentStatus): Promise<void> {
    const now = this.#options.clock.now();
    const reason = statusWriteReason(status, this.#last, now, this.#options.heartbeatIntervalMs);
    if (!reason) return;
    await this.#options.write(status);
    this.#options.writes.inc({ reason });
    this.#last = { status, at: now };
  }

  /** The pass that threw `error` already wrote why. */
  failureReported(error: unknown): void {
    this.#reportedFailure = error;
  }

  /**
   * A pass that threw before it wrote why (an unexpected error anywhere) still ends in AgentReady False, so
   * the Machine never goes silent. Best effort: if even this write fails, the retry tries again.
   */
  async reportFailedPass(
    error: unknown,
    machine: { readonly status: AgentStatus | undefined; readonly generation: number | undefined },
  ): Promise<void> {
    if (error === this.#reportedFailure) return;
    const now = this.#options.clock.now();
    const status = withFailedPass(
      this.#last?.status ?? machine.status,
      { reason: 'ConvergeFailed', message: boundedText(`convergence pass failed: ${errorMessage(error)}`) },
      { agentVersion: this.#options.agentVersion, generation: machine.generation, now: new Date(now) },
    );
    if (!shouldWriteStatus(status, this.#last, now, this.#options.heartbeatIntervalMs)) return;
    try {
      await this.#options.write(status);
      this.#options.writes.inc({ reason: 'change' });
      this.#last = { status, at: now };
    } catch (writeError) {
      this.#options.log.error({ err: writeError }, 'could not report the failed pass in the Machine status');
    }
  }
}
