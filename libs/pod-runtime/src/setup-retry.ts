/**
 * How long a pod whose setup failed (a Secret not there yet, a volume the runtime cannot make)
 * waits before the next attempt: 0.5 s, doubling with each failure up to 10 s, as process
 * restarts do. Retries only read the API; the pod's status is written when what it says changes.
 */
export function setupRetryDelayMs(failures: number): number {
  if (failures < 1) return 0;
  return Math.min(firstDelayMs * 2 ** (failures - 1), maxDelayMs);
}

const firstDelayMs = 500;
const maxDelayMs = 10_000;
