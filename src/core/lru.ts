// A least-recently-used map under a byte budget: the header cache (weight =
// inline header bytes), the size cache and the art cache (weight = image
// bytes). A hit reorders the entries' list, not the Map (see recency.ts).
//
// With a probation share (the header cache), the map resists scans: a new
// entry waits in a first-in-first-out list of at most that weight, and only
// an entry used a second time moves to the least-recently-used part. A media
// server reading every file once then cycles through the probation list
// alone: the layouts of files in use stay, and the cache holds no more than
// the probation share of one-shot entries, where a plain LRU filled its
// whole budget with them (docs/tuning.md, header cache).

import { type Linked, RecencyList } from "./recency.ts";

interface Entry<K, V> extends Linked<Entry<K, V>> {
  readonly key: K;
  value: V;
  weight: number;
  /** In the probation list (else in the least-recently-used one). */
  probation: boolean;
  /** Used once already while in probation: the next use promotes it. */
  used: boolean;
}

export class WeightedLru<K, V> {
  readonly #map = new Map<K, Entry<K, V>>();
  /** Entries used twice or more (all of them without a probation share), oldest first. */
  readonly #order = new RecencyList<Entry<K, V>>();
  /** Entries on probation, in the order they came. */
  readonly #fresh = new RecencyList<Entry<K, V>>();
  #weight = 0;
  #freshWeight = 0;
  hits = 0;
  misses = 0;
  readonly probation: number;

  /**
   * `probation`: the most weight new entries take before a second use
   * (0: none, every entry is ordered by recency alone). Capped at `budget`.
   */
  constructor(readonly budget: number, probation = 0) {
    this.probation = Math.min(budget, Math.max(0, probation));
  }

  /** A counted lookup; `use` false leaves its recency (and probation) as it was. */
  get(key: K, use = true): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (use) this.#use(e);
    return e.value;
  }

  /** Look without counting or refreshing recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /**
   * Insert (weight at least 1); an entry heavier than the whole budget is not
   * kept, one heavier than the probation share skips probation. `used`: the
   * caller uses the value now (a value built ahead of its use passes false,
   * so its first `get` does not count as a second use). Setting an entry
   * again never evicts it.
   */
  set(key: K, value: V, weight: number, used = true): void {
    const w = Math.max(1, weight);
    let e = this.#map.get(key);
    if (w > this.budget) {
      if (e !== undefined) this.#remove(e);
      return;
    }
    if (e === undefined) {
      e = { key, value, weight: w, probation: true, used: false, older: null, newer: null };
      this.#map.set(key, e);
    } else {
      // Replaced in place: the Map is not touched.
      this.#unlist(e);
      e.value = value;
      e.weight = w;
    }
    this.#list(e, used);
    this.#evict(e);
  }

  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#remove(e);
    return true;
  }

  /** Keep only the entries whose key passes `keep`. */
  retain(keep: (key: K) => boolean): void {
    for (const list of [this.#fresh, this.#order]) {
      for (let e = list.oldest; e !== null;) {
        const next = e.newer;
        if (!keep(e.key)) this.#remove(e);
        e = next;
      }
    }
  }

  clear(): void {
    this.#map.clear();
    this.#order.clear();
    this.#fresh.clear();
    this.#weight = 0;
    this.#freshWeight = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#weight;
  }

  /** Weight of the entries on probation. */
  get probationWeight(): number {
    return this.#freshWeight;
  }

  /** A use of a kept entry: the newest in recency, or its second use out of probation. */
  #use(e: Entry<K, V>): void {
    if (!e.probation) {
      this.#order.touch(e);
    } else if (!e.used) {
      e.used = true;
    } else {
      this.#unlist(e);
      this.#list(e, true);
    }
  }

  /** Puts an entry in its list as the newest: probation until its second use. */
  #list(e: Entry<K, V>, used: boolean): void {
    this.#weight += e.weight;
    if (e.probation && e.weight <= this.probation && !(used && e.used)) {
      e.used ||= used;
      this.#fresh.push(e);
      this.#freshWeight += e.weight;
    } else {
      e.probation = false;
      this.#order.push(e);
    }
  }

  /** Takes a listed entry out of its list (it stays in the Map). */
  #unlist(e: Entry<K, V>): void {
    if (e.probation) {
      this.#fresh.unlink(e);
      this.#freshWeight -= e.weight;
    } else {
      this.#order.unlink(e);
    }
    this.#weight -= e.weight;
  }

  /**
   * Probation over its share gives up its oldest entries; the whole over
   * budget, the least recently used of the rest first (probation keeps its
   * share, so a file built ahead of its open survives until then). `kept`
   * (the entry just set) goes last.
   */
  #evict(kept: Entry<K, V>): void {
    while (this.#freshWeight > this.probation) this.#remove(this.#fresh.oldest!);
    while (this.#weight > this.budget) {
      const oldest = this.#order.oldest;
      this.#remove(oldest === null || oldest === kept ? this.#fresh.oldest! : oldest);
    }
  }

  #remove(e: Entry<K, V>): void {
    this.#unlist(e);
    this.#map.delete(e.key);
  }
}
