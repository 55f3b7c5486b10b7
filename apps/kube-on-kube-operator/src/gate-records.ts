/**
 * How long each gate took in the current operation (status.gates). Pure. A
 * gate starts when its component's dependencies are all Available at the
 * desired version (the gate opens) and completes when the component itself is.
 */
import type { ClusterStatus } from '@kok/api';

export type GateRecord = NonNullable<ClusterStatus['gates']>[number];

export interface GateObservation {
  /** Gate name: the component's condition type, e.g. EtcdAvailable. */
  gate: string;
  open: boolean;
  availableAtDesired: boolean;
}

export interface GateUpdate {
  gates: GateRecord[];
  /** Gates that completed in this step, to be observed in the duration histogram. */
  completed: GateRecord[];
}

/** Timestamps keep milliseconds: a gate can pass in well under a second. */
const timestamp = (date: Date) => date.toISOString();

export function nextGateRecords(
  previous: readonly GateRecord[],
  observations: readonly GateObservation[],
  now: Date,
): GateUpdate {
  const completed: GateRecord[] = [];
  const gates = observations.flatMap((o): GateRecord[] => {
    const record = previous.find((g) => g.name === o.gate);
    if (!record && !o.open) return [];
    const started = record ?? { name: o.gate, startedAt: timestamp(now) };
    if (started.completedAt || !o.availableAtDesired) return [started];
    const done: GateRecord = {
      ...started,
      completedAt: timestamp(now),
      durationMilliseconds: Math.max(0, now.getTime() - Date.parse(started.startedAt)),
    };
    completed.push(done);
    return [done];
  });
  return { gates, completed };
}
