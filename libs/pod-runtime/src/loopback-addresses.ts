/**
 * Every pod gets its own loopback address (Linux routes all of 127.0.0.0/8 to
 * `lo`), so pods listening on the same port do not clash. 127.0.0.0/16 is
 * left alone: it holds 127.0.0.1 and whatever else the host binds there.
 */
export class LoopbackAddresses {
  readonly #byKey = new Map<string, string>();
  readonly #inUse = new Set<string>();
  #next = 0;

  /** The address of `key` (a pod UID): the same one until released. */
  acquire(key: string): string {
    const existing = this.#byKey.get(key);
    if (existing) return existing;
    for (let tries = 0; tries < loopbackCapacity; tries++) {
      const candidate = loopbackAddress(this.#next);
      this.#next = (this.#next + 1) % loopbackCapacity;
      if (this.#inUse.has(candidate)) continue;
      this.#byKey.set(key, candidate);
      this.#inUse.add(candidate);
      return candidate;
    }
    throw new Error(`all ${loopbackCapacity} loopback addresses are in use`);
  }

  release(key: string): void {
    const address = this.#byKey.get(key);
    if (!address) return;
    this.#byKey.delete(key);
    this.#inUse.delete(address);
  }
}

/** 127.1.0.1 … 127.255.255.254 without .0 and .255 in the last octet. */
export const loopbackCapacity = 255 * 256 * 254;

/** The `index`-th pod address (0-based). */
export function loopbackAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= loopbackCapacity)
    throw new RangeError(`loopback index ${index} is outside 0..${loopbackCapacity - 1}`);
  const last = (index % 254) + 1;
  const rest = Math.floor(index / 254);
  return `127.${Math.floor(rest / 256) + 1}.${rest % 256}.${last}`;
}
