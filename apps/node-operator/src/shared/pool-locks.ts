/**
 * One lock per NodePool, shared by the rollout and remediation controllers.
 * Each plans its pool's disruption budget from the caches and waits until the
 * caches show its writes before letting go, so the other never counts the
 * budget from a view that misses them: together they stay within maxUnavailable.
 */
export class PoolLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` holding every named lock (taken in sorted order, so two callers cannot deadlock). */
  async withPools<T>(pools: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const names = [...new Set(pools)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const name of names) releases.push(await this.#acquire(name));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  async #acquire(name: string): Promise<() => void> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.#tails.set(name, tail);
    await previous;
    return () => {
      release();
      // Forget the pool once nobody waits behind this holder, so the map does not grow with pools ever seen.
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    };
  }
}
