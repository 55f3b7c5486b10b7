/**
 * The termination message of a container that failed, taken from its log as the kubelet does
 * for `terminationMessagePolicy: FallbackToLogsOnError`: the last 80 lines, of those at most the
 * last 2048 bytes. Pure: the runtime reads the log.
 */
import type { V1Container } from '@kubernetes/client-node';
import type { ContainerTermination } from './pod-status.ts';

const maxLines = 80;
const maxBytes = 2048;

/** Whether a container that exited with `exitCode` gets its log's tail as termination message. */
export function wantsLogAsTerminationMessage(container: V1Container, exitCode: number): boolean {
  return exitCode !== 0 && container.terminationMessagePolicy === 'FallbackToLogsOnError';
}

/** The tail of `log` that becomes the termination message. */
export function terminationMessageFromLog(log: Buffer): string {
  let start = log.length;
  // Counting newlines back from the end; a final newline ends the last line, it does not start one.
  let lines = 0;
  for (let i = log.length - 1; i >= 0; i--) {
    if (log[i] === 0x0a && i !== log.length - 1 && ++lines === maxLines) break;
    start = i;
  }
  start = Math.max(start, log.length - maxBytes);
  // Not from the middle of a UTF-8 character: skip its continuation bytes (10xxxxxx).
  while (start < log.length && ((log[start] ?? 0) & 0xc0) === 0x80) start++;
  return log.subarray(start).toString('utf8');
}

/** How a container's process ended for good. */
export interface FinalExit {
  readonly exitCode: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/** The terminated state of a container whose process ended for good; `readLog` is read only when the message comes from it. */
export function containerTermination(
  container: V1Container,
  exit: FinalExit,
  readLog: () => Buffer,
): ContainerTermination {
  const message = wantsLogAsTerminationMessage(container, exit.exitCode)
    ? terminationMessageFromLog(readLog())
    : '';
  return { ...exit, ...(message ? { message } : {}) };
}
