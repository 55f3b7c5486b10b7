/**
 * status.lastOperation as a pure reducer: the operation the agent reports
 * next, from the one it reported and what just happened.
 *
 * An operation keeps its startedAt while it goes on (same type, still
 * Processing), also across passes and, for a reboot, across the agent's
 * restart; anything else starts it afresh.
 */
import type { LastOperation } from '@kok/api';
import { metaTime } from '@kok/api/core';

export type OperationEvent =
  /** A new operation, started now whatever the previous one was. */
  | { readonly kind: 'started'; readonly type: string; readonly progress: number; readonly message: string }
  /** The operation of `type` goes on (or starts, if another one was under way). */
  | {
      readonly kind: 'progressed';
      readonly type: string;
      readonly progress: number;
      readonly message: string;
    }
  | { readonly kind: 'failed'; readonly type: string; readonly progress: number; readonly message: string }
  | { readonly kind: 'succeeded'; readonly type: string; readonly message: string };

export function nextOperation(
  previous: LastOperation | undefined,
  event: OperationEvent,
  now: Date,
): LastOperation {
  const at = metaTime(now);
  const continued =
    previous?.type === event.type && previous.state === 'Processing' && previous.startedAt
      ? previous.startedAt
      : at;
  switch (event.kind) {
    case 'started':
      return operation(event.type, 'Processing', event.progress, at, event.message);
    case 'progressed':
      return operation(event.type, 'Processing', event.progress, continued, event.message);
    case 'failed':
      return { ...operation(event.type, 'Failed', event.progress, continued, event.message), finishedAt: at };
    case 'succeeded':
      return { ...operation(event.type, 'Succeeded', 100, continued, event.message), finishedAt: at };
  }
}

/** Steps done of a plan's steps, as a percentage (an empty plan is done). */
export function percentDone(done: number, steps: number): number {
  return Math.min(100, Math.round((done / Math.max(1, steps)) * 100));
}

function operation(
  type: string,
  state: LastOperation['state'],
  progress: number,
  startedAt: string,
  message: string,
): LastOperation {
  return { type, state, progress, message, startedAt };
}
