/** Telling a live process from a dead one, and from a later one that reused its pid. */
import { readFileSync } from 'node:fs';

/** True while `pid` runs (a zombie, exited but not reaped, does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0.
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Field 22 of /proc/<pid>/stat, the start time in clock ticks since boot: with the pid, one process ever. */
export function startTimeOf(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** The parent of `pid`, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  return readStat(pid)?.parent;
}

function readStat(pid: number): { state: string; parent: number; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing paren are plain.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', parent: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The one of `pids` that started first (pids wrap around: a lower pid may be a younger process). */
export function oldestOf(pids: readonly number[]): number | undefined {
  return earliestStarted(pids.map((pid) => ({ pid, startTime: startTimeOf(pid) ?? '' })));
}

/** Pure: the pid whose start time is smallest; a process gone meanwhile (no start time) comes last. */
export function earliestStarted(
  processes: readonly { readonly pid: number; readonly startTime: string }[],
): number | undefined {
  const ticks = (startTime: string) => (startTime === '' ? Number.POSITIVE_INFINITY : Number(startTime));
  return [...processes].sort((a, b) => ticks(a.startTime) - ticks(b.startTime) || a.pid - b.pid)[0]?.pid;
}
