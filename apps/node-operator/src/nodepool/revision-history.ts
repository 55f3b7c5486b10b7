/** One stored revision of a pool's template (a ControllerRevision). */
export interface RevisionRecord {
  name: string;
  /** The template hash. */
  hash: string;
  /** ControllerRevision.revision: higher is newer. */
  number: number;
}

/** Revisions kept per pool besides the current and update ones. Default of --revision-history-limit. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/**
 * The records to delete so at most `limit` remain, newest kept, and never one
 * of the `inUse` hashes (the pool's current and update revision, and any a
 * machine is still told). Pure.
 */
export function revisionsToPrune(
  records: readonly RevisionRecord[],
  inUse: ReadonlySet<string>,
  limit: number = DEFAULT_REVISION_HISTORY_LIMIT,
): string[] {
  const newestFirst = [...records].sort((a, b) => b.number - a.number);
  const keep = new Set(newestFirst.filter((r) => inUse.has(r.hash)).map((r) => r.name));
  for (const record of newestFirst) {
    if (keep.size >= limit) break;
    keep.add(record.name);
  }
  return newestFirst.filter((r) => !keep.has(r.name)).map((r) => r.name);
}

/** The number for a new record: one above the newest. */
export function nextRevisionNumber(records: readonly RevisionRecord[]): number {
  return records.reduce((max, r) => Math.max(max, r.number), 0) + 1;
}
