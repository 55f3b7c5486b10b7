/**
 * Every pod gets its own loopback address (Linux routes all of 127.0.0.0/8 to
 * `lo`), so pods listening on the same port do not clash. Each runtime owns
 * one /16 block, 127.<block>.0.0/16 (see loopback-block.ts), so runtimes of
 * different processes on one host never hand out the same address.
 * 127.0.0.0/16 is left alone: it holds 127.0.0.1 and whatever else the host
 * binds there.
 */
export class LoopbackAddresses {
  readonly #block: number;
  readonly #byKey = new Map<string, string>();
  readonly #inUse = new Set<string>();
  #next = 0;

  constructor(block = 1) {
    this.#block = block;
  }

  /** The address of `key` (a pod UID): the same one until released. */
  acquire(key: string): string {
    const existing = this.#byKey.get(key);
    if (existing) return existing;
    for (let tries = 0; tries < loopbackCapacity; tries++) {
      const candidate = loopbackAddress(this.#next, this.#block);
      this.#next = (this.#next + 1) % loopbackCapacity;
      if (this.#inUse.has(candidate)) continue;
      this.#byKey.set(key, candidate);
      this.#inUse.add(candidate);
      return candidate;
    }
    throw new Error(`all ${loopbackCapacity} loopback addresses of 127.${this.#block}.0.0/16 are in use`);
  }

  release(key: string): void {
    const address = this.#byKey.get(key);
    if (!address) return;
    this.#byKey.delete(key);
    this.#inUse.delete(address);
  }
}

/** Addresses in one block: 127.<block>.0.1 … 127.<block>.255.254, without .0 and .255 in the last octet. */
export const loopbackCapacity = 256 * 254;

/** The `index`-th pod address (0-based) of block `block` (1…255). */
export function loopbackAddress(index: number, block = 1): string {
  if (!Number.isInteger(index) || index < 0 || index >= loopbackCapacity)
    throw new RangeError(`loopback index ${index} is outside 0..${loopbackCapacity - 1}`);
  if (!Number.isInteger(block) || block < 1 || block > 255)
    throw new RangeError(`loopback block ${block} is outside 1..255`);
  return `127.${block}.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}
