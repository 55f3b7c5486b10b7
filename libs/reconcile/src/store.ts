import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './resource-type.ts';

/** Values of one index for an object, e.g. its namespace or its owners' UIDs. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** Index functions every informer offers (client-go's cache.NamespaceIndex and friends). */
export const Indexes = {
  namespace: 'namespace',
  ownerUid: 'ownerUid',
  /** Values are `key=value` for each label. */
  label: 'label',
} as const;

export const builtinIndexers: Record<string, IndexFunc<KubernetesObject>> = {
  [Indexes.namespace]: (obj) => (obj.metadata?.namespace ? [obj.metadata.namespace] : []),
  [Indexes.ownerUid]: (obj) => (obj.metadata?.ownerReferences ?? []).map((ref) => ref.uid),
  [Indexes.label]: (obj) => Object.entries(obj.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`),
};

/**
 * Objects by key (`namespace/name`) plus secondary indexes kept in step with
 * every write. The store never copies: callers put in frozen objects.
 */
export class IndexedStore<T extends KubernetesObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers: [string, IndexFunc<T>][];
  // index name → index value → keys
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>>) {
    this.#indexers = Object.entries(indexers);
    for (const [name] of this.#indexers) this.#indices.set(name, new Map());
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  /** Inserts or replaces; returns the previous object under the same key. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const previous = this.#items.get(key);
    if (previous) this.#unindex(key, previous);
    this.#items.set(key, obj);
    this.#index(key, obj);
    return previous;
  }

  /** Removes by key; returns what was there. */
  remove(key: string): T | undefined {
    const previous = this.#items.get(key);
    if (!previous) return undefined;
    this.#items.delete(key);
    this.#unindex(key, previous);
    return previous;
  }

  /** Objects whose index `indexName` yields `value`. Throws for an unknown index name. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`no index "${indexName}"; known: ${[...this.#indices.keys()].join(', ')}`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) out.push(this.#items.get(key) as T);
    return out;
  }

  /** Distinct values of an index (e.g. every namespace holding objects). */
  indexValues(indexName: string): string[] {
    return [...(this.#indices.get(indexName)?.keys() ?? [])];
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}
