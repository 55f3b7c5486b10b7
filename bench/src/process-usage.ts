import { readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of USER_HZ = 1/100 s. */
const TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  /** User plus system CPU time so far. */
  cpuSeconds: number;
  /** Resident set now (VmRSS). */
  rssMiB: number;
  /** The kernel's high-water mark of the resident set (VmHWM): the true peak, however short, not a sample. */
  peakRssMiB: number;
}

/** CPU time, RSS and peak RSS of a live process, from /proc (`'self'` for this process). */
export function processUsage(pid: number | 'self'): ProcessUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    rssMiB: statusKiB(status, 'VmRSS') / 1024,
    peakRssMiB: statusKiB(status, 'VmHWM') / 1024,
  };
}

/** A `Key:  1234 kB` line of /proc/<pid>/status, in KiB. */
export function statusKiB(status: string, key: string): number {
  const value = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  if (value === undefined) throw new Error(`/proc status has no ${key} line`);
  return Number(value);
}
