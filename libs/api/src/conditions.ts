/**
 * metav1.Condition helpers. Pure: each returns a new list and never mutates.
 */
import type { Condition } from './common-schemas.ts';

export type ConditionStatus = Condition['status'];

/** What a controller decides; the helper fills in lastTransitionTime. */
export interface ConditionUpdate {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  /** Default ''. */
  readonly message?: string;
  /** The metadata.generation this decision was made for. Default: left out. */
  readonly observedGeneration?: number;
}

/** metav1.Time: RFC 3339 in UTC with whole seconds. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * The condition last changed at or after `since`. API times have whole
 * seconds, so a change within the second of `since` counts.
 */
export function changedSince(condition: Condition, since: string | Date): boolean {
  const floor = Math.floor(new Date(since).getTime() / 1000) * 1000;
  return Date.parse(condition.lastTransitionTime) >= floor;
}

/** The condition is True and became so at or after `since` (not a verdict left from before it). */
export function isConditionTrueSince(
  conditions: readonly Condition[] | undefined,
  type: string,
  since: string | Date,
): boolean {
  const condition = findCondition(conditions, type);
  return condition?.status === 'True' && changedSince(condition, since);
}

/**
 * Sets one condition. lastTransitionTime changes only when the status changes
 * (or the condition is new); reason, message and observedGeneration are
 * always updated. The list keeps its order; a new condition goes last.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const existing = findCondition(list, update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime:
      existing && existing.status === update.status ? existing.lastTransitionTime : metaTime(now),
    ...(update.observedGeneration === undefined ? {} : { observedGeneration: update.observedGeneration }),
  };
  if (!existing) return [...list, next];
  return list.map((condition) => (condition.type === update.type ? next : condition));
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

/** True when setting `update` would change nothing: lets a controller skip a status write. */
export function isConditionUpToDate(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
): boolean {
  const existing = findCondition(conditions, update.type);
  return (
    existing !== undefined &&
    existing.status === update.status &&
    existing.reason === update.reason &&
    existing.message === (update.message ?? '') &&
    existing.observedGeneration === update.observedGeneration
  );
}
