/**
 * How long a machine of the pool takes, from the pool's own past: the
 * node-operator records on each Machine when it told it its revision
 * (annotation revision-assigned) and the agent records when it became
 * healthy running it (UpToDate True, lastTransitionTime). Their difference is
 * one observed upgrade per Machine: its latest. A drain is seen only while
 * under way (the cordon's drain-started-at is removed with the cordon), from
 * the cordon to the machine being told the revision. Pure.
 */
import { findCondition, MachineConditions, revisionAssignedAt, RolloutAnnotations } from '@kok/api';
import type { Machine } from '@kok/api';
import type { MachineDurations } from '@kok/rollout';
import { formatDuration } from './render/age.ts';

/** Assumed when the pool has no finished upgrade to go by. */
export const ASSUMED_UPGRADE_SECONDS = 60;

export interface DurationEstimate extends MachineDurations {
  /** How many finished upgrades `upgradeSeconds` comes from (0: assumed). */
  observedUpgrades: number;
  /** How many drains `drainSeconds` comes from (0: assumed). */
  observedDrains: number;
  /** Where the numbers come from, in words, e.g. `median of 12 observed upgrades (1m5s each) …`. */
  basis: string;
}

/** Seconds each machine took from being told its current revision to running it healthy, where recorded. */
export function observedUpgradeSeconds(machines: readonly Machine[]): number[] {
  const seconds: number[] = [];
  for (const machine of machines) {
    const toldAt = toldRevisionAt(machine);
    const revision = machine.spec?.revision;
    if (toldAt === undefined || revision === undefined || machine.status?.revision?.current !== revision)
      continue;
    const upToDate = findCondition(machine.status?.conditions, MachineConditions.UpToDate);
    if (upToDate?.status !== 'True') continue;
    const healthyAt = Date.parse(upToDate.lastTransitionTime);
    // lastTransitionTime has whole seconds; the assignment has milliseconds: allow the rounding.
    if (Number.isNaN(healthyAt) || healthyAt < toldAt - 1000) continue;
    seconds.push(Math.max(0, (healthyAt - toldAt) / 1000));
  }
  return seconds;
}

/** Seconds the drains under way took, from the rollout's cordon to the machine being told its revision. */
export function observedDrainSeconds(machines: readonly Machine[]): number[] {
  const seconds: number[] = [];
  for (const machine of machines) {
    const startedAt = Date.parse(machine.metadata?.annotations?.[RolloutAnnotations.drainStartedAt] ?? '');
    const toldAt = toldRevisionAt(machine);
    const cordonedFor = machine.metadata?.annotations?.[RolloutAnnotations.cordonedByRollout];
    if (Number.isNaN(startedAt) || toldAt === undefined || cordonedFor !== machine.spec?.revision) continue;
    // drain-started-at has whole seconds.
    if (toldAt >= startedAt - 1000) seconds.push(Math.max(0, (toldAt - startedAt) / 1000));
  }
  return seconds;
}

/** The duration model for the pool's machines: medians of what was observed, else stated assumptions. */
export function durationEstimate(machines: readonly Machine[]): DurationEstimate {
  const upgrades = observedUpgradeSeconds(machines);
  const drains = observedDrainSeconds(machines);
  const upgradeSeconds = upgrades.length > 0 ? median(upgrades) : ASSUMED_UPGRADE_SECONDS;
  const drainSeconds = drains.length > 0 ? median(drains) : 0;
  const upgradeBasis =
    upgrades.length > 0
      ? `median of ${upgrades.length} observed upgrade${upgrades.length === 1 ? '' : 's'} (${seconds(upgradeSeconds)} from being told a revision to healthy)`
      : `no history: assumed ${seconds(upgradeSeconds)} per machine from being told the revision to healthy`;
  const drainBasis =
    drains.length > 0
      ? `drains ${seconds(drainSeconds)} (median of ${drains.length} under way)`
      : 'drains assumed instant (none under way to time)';
  return {
    upgradeSeconds,
    drainSeconds,
    observedUpgrades: upgrades.length,
    observedDrains: drains.length,
    basis: `${upgradeBasis}; ${drainBasis}`,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return Math.round(value);
}

function seconds(value: number): string {
  return formatDuration(value * 1000);
}

/** When the node-operator told the Machine its spec.revision, from the rollout's annotation. */
function toldRevisionAt(machine: Machine): number | undefined {
  return revisionAssignedAt(
    machine.metadata?.annotations?.[RolloutAnnotations.revisionAssigned],
    machine.spec?.revision,
  );
}
