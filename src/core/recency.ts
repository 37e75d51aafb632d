// Least-recently-used order as a doubly linked list through the items
// themselves. Moving an item to the newest end touches two neighbours and
// allocates nothing; the alternative of deleting and re-adding a Map or Set
// key on every use makes V8 rehash the table every few hundred uses, and each
// replaced table stays reachable from the one before it until a full
// collection, so hot caches kept that way fill the old generation with
// garbage (see slots.ts).

/** An item that can be in one RecencyList. */
export interface Linked<T> {
  /** Towards the oldest item; null at the oldest end or when not listed. */
  older: T | null;
  /** Towards the newest item; null at the newest end or when not listed. */
  newer: T | null;
}

export class RecencyList<T extends Linked<T>> {
  #oldest: T | null = null;
  #newest: T | null = null;
  #size = 0;

  get oldest(): T | null {
    return this.#oldest;
  }

  get size(): number {
    return this.#size;
  }

  /** Add an item that is not listed, as the newest. */
  push(e: T): void {
    e.older = this.#newest;
    e.newer = null;
    if (this.#newest === null) this.#oldest = e;
    else this.#newest.newer = e;
    this.#newest = e;
    this.#size++;
  }

  /** Take a listed item out. */
  unlink(e: T): void {
    if (e.older === null) this.#oldest = e.newer;
    else e.older.newer = e.newer;
    if (e.newer === null) this.#newest = e.older;
    else e.newer.older = e.older;
    e.older = e.newer = null;
    this.#size--;
  }

  /** Make a listed item the newest. */
  touch(e: T): void {
    if (this.#newest === e) return;
    this.unlink(e);
    this.push(e);
  }

  clear(): void {
    this.#oldest = this.#newest = null;
    this.#size = 0;
  }
}
