/**
 * What a reconciler last wrote from, per object: the version its cache showed when it wrote. While the
 * cache still shows that version, it has not yet seen the write (whose own watch event brings the next
 * pass), and writing from it again would only repeat the write or fail on a stale resourceVersion.
 * A version is trusted as "not seen yet" for `horizonMs` at most: should the write's event never show
 * (a relist that folds it into a later change), the object is written again after that. Pure (the
 * caller passes the time).
 */
export class WrittenFrom {
  readonly #versions = new Map<string, { version: string; at: number }>();
  readonly #horizonMs: number;

  constructor(horizonMs = 30_000) {
    this.#horizonMs = horizonMs;
  }

  /** True while the cache, showing `version` of `key`, has not seen the last write made from it. */
  behind(key: string, version: string, now: number): boolean {
    const written = this.#versions.get(key);
    if (written && written.version === version && now - written.at < this.#horizonMs) return true;
    this.#versions.delete(key);
    return false;
  }

  /** Records that `key` was written while its cache showed `version`. */
  wrote(key: string, version: string, now: number): void {
    this.#versions.set(key, { version, at: now });
  }

  forget(key: string): void {
    this.#versions.delete(key);
  }
}
