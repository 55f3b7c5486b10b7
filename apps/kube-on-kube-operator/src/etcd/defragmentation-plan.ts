/**
 * Which etcd member to defragment next, if any. A defragmentation rewrites a
 * member's DB file without the space deleted and compacted revisions left
 * free; the member answers nothing meanwhile. So: one member at a time,
 * followers before the leader (a leader that stalls costs an election), never
 * while the membership changes or any member is unhealthy (a stalled member
 * then could cost quorum), and each member at most once per minimum interval.
 * Pure.
 */
import type { Cluster } from '@kok/api';

/** spec.etcd.defragmentation with its defaults. */
export interface DefragmentationPolicy {
  enabled: boolean;
  freeSpacePercent: number;
  freeSpaceBytes: number;
}

export const DEFAULT_FREE_SPACE_PERCENT = 50;
export const DEFAULT_FREE_SPACE_BYTES = 100 * 1024 * 1024;
/** A member is defragmented at most this often, whatever its free space. */
export const DEFRAGMENTATION_MIN_INTERVAL_MS = 10 * 60_000;

export function defragmentationPolicyOf(spec: Pick<Cluster['spec'], 'etcd'>): DefragmentationPolicy {
  const set = spec.etcd?.defragmentation;
  return {
    enabled: set?.enabled ?? true,
    freeSpacePercent: set?.freeSpacePercent ?? DEFAULT_FREE_SPACE_PERCENT,
    freeSpaceBytes: set?.freeSpaceBytes ?? DEFAULT_FREE_SPACE_BYTES,
  };
}

export interface DefragmentationMember {
  name: string;
  healthy: boolean;
  /** Absent when the member did not say. */
  dbSizeBytes?: number;
  dbSizeInUseBytes?: number;
}

export interface DefragmentationInputs {
  /** The members as etcd lists them (a removed member is not among them). */
  members: readonly DefragmentationMember[];
  leader?: string;
  /** The membership planner has a step to take or waits: the membership is not settled. */
  membershipSettled: boolean;
  /** A defragmentation started and not yet finished (by another pass). */
  inFlight?: string;
  /** When each member was last defragmented, in ms since the epoch. */
  lastDefragmentedAt: ReadonlyMap<string, number>;
  now: number;
}

export type DefragmentationStep =
  { kind: 'defragment'; member: string; freeBytes: number; dbSizeBytes: number } | { kind: 'none' };

/** A member's free space passes both thresholds of the policy. */
export function needsDefragmentation(member: DefragmentationMember, policy: DefragmentationPolicy): boolean {
  const { dbSizeBytes: size, dbSizeInUseBytes: inUse } = member;
  if (size === undefined || inUse === undefined || size <= 0) return false;
  const free = size - inUse;
  return free > 0 && free >= policy.freeSpaceBytes && free * 100 >= policy.freeSpacePercent * size;
}

export function planDefragmentation(
  inputs: DefragmentationInputs,
  policy: DefragmentationPolicy,
): DefragmentationStep {
  const { members, leader, membershipSettled, inFlight, lastDefragmentedAt, now } = inputs;
  if (!policy.enabled || !membershipSettled || inFlight !== undefined) return { kind: 'none' };
  if (members.length === 0 || members.some((m) => !m.healthy)) return { kind: 'none' };
  const due = members.filter(
    (m) =>
      needsDefragmentation(m, policy) &&
      now - (lastDefragmentedAt.get(m.name) ?? -Infinity) >= DEFRAGMENTATION_MIN_INTERVAL_MS,
  );
  // Followers first, by name; the leader last.
  const next = [...due].sort(
    (a, b) => Number(a.name === leader) - Number(b.name === leader) || a.name.localeCompare(b.name),
  )[0];
  if (!next) return { kind: 'none' };
  const dbSizeBytes = next.dbSizeBytes ?? 0;
  return {
    kind: 'defragment',
    member: next.name,
    freeBytes: dbSizeBytes - (next.dbSizeInUseBytes ?? 0),
    dbSizeBytes,
  };
}
