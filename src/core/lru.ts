// A least-recently-used map under a byte budget: the header cache (weight =
// inline header bytes), the size cache and the art cache (weight = image
// bytes). A hit reorders the entries' list, not the Map (see recency.ts).

import { type Linked, RecencyList } from "./recency.ts";

interface Entry<K, V> extends Linked<Entry<K, V>> {
  readonly key: K;
  value: V;
  weight: number;
}

export class WeightedLru<K, V> {
  readonly #map = new Map<K, Entry<K, V>>();
  readonly #order = new RecencyList<Entry<K, V>>();
  #weight = 0;
  hits = 0;
  misses = 0;

  constructor(readonly budget: number) {}

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#order.touch(e);
    return e.value;
  }

  /** Look without counting or refreshing recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Insert (weight at least 1); an entry heavier than the whole budget is not kept. */
  set(key: K, value: V, weight: number): void {
    const w = Math.max(1, weight);
    const e = this.#map.get(key);
    if (w > this.budget) {
      if (e !== undefined) this.#remove(e);
      return;
    }
    if (e !== undefined) {
      // Replaced in place: the Map is not touched.
      this.#weight += w - e.weight;
      e.value = value;
      e.weight = w;
      this.#order.touch(e);
    } else {
      const added: Entry<K, V> = { key, value, weight: w, older: null, newer: null };
      this.#map.set(key, added);
      this.#order.push(added);
      this.#weight += w;
    }
    for (let old = this.#order.oldest; this.#weight > this.budget && old !== null;) {
      this.#remove(old);
      old = this.#order.oldest;
    }
  }

  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#remove(e);
    return true;
  }

  /** Keep only the entries whose key passes `keep`. */
  retain(keep: (key: K) => boolean): void {
    for (let e = this.#order.oldest; e !== null;) {
      const next = e.newer;
      if (!keep(e.key)) this.#remove(e);
      e = next;
    }
  }

  clear(): void {
    this.#map.clear();
    this.#order.clear();
    this.#weight = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#weight;
  }

  #remove(e: Entry<K, V>): void {
    this.#map.delete(e.key);
    this.#order.unlink(e);
    this.#weight -= e.weight;
  }
}
