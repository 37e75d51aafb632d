// A least-recently-used map under a byte budget: the header cache (weight =
// inline header bytes) and the art cache (weight = image bytes). A Map keeps
// insertion order, so re-inserting on a hit makes the first key the oldest.

export class WeightedLru<K, V> {
  readonly #map = new Map<K, { value: V; weight: number }>();
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
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  /** Look without counting or refreshing recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Insert (weight at least 1); an entry heavier than the whole budget is not kept. */
  set(key: K, value: V, weight: number): void {
    this.delete(key);
    const w = Math.max(1, weight);
    if (w > this.budget) return;
    this.#map.set(key, { value, weight: w });
    this.#weight += w;
    for (const [k, e] of this.#map) {
      if (this.#weight <= this.budget) break;
      this.#map.delete(k);
      this.#weight -= e.weight;
    }
  }

  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#map.delete(key);
    this.#weight -= e.weight;
    return true;
  }

  /** Keep only the entries whose key passes `keep`. */
  retain(keep: (key: K) => boolean): void {
    for (const [k, e] of this.#map) {
      if (!keep(k)) {
        this.#map.delete(k);
        this.#weight -= e.weight;
      }
    }
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#weight;
  }
}
