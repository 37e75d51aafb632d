// Values under small integer slots that are reused once released: open file
// and directory handles. A Map with one entry added and one removed per
// request rehashes into a new table every few operations, and V8 keeps every
// replaced table reachable from the one before it until a full collection, so
// that churn is promoted and has to be marked; an array of slots and a free
// list allocate nothing once they have grown to the most handles open at once.

export class SlotTable<T> {
  readonly #values: (T | undefined)[] = [];
  readonly #free: number[] = [];
  #size = 0;

  /** Store `value` in a free slot and return the slot. */
  add(value: T): number {
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#values.length;
    this.#values[slot] = value;
    this.#size++;
    return slot;
  }

  get(slot: number): T | undefined {
    return Number.isInteger(slot) && slot >= 0 ? this.#values[slot] : undefined;
  }

  /** Free `slot`; the value it held, or undefined if it held none. */
  remove(slot: number): T | undefined {
    const value = this.get(slot);
    if (value === undefined) return undefined;
    this.#values[slot] = undefined;
    this.#free.push(slot);
    this.#size--;
    return value;
  }

  /** The slots in use. */
  slots(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#values.length; i++) if (this.#values[i] !== undefined) out.push(i);
    return out;
  }

  clear(): void {
    this.#values.length = 0;
    this.#free.length = 0;
    this.#size = 0;
  }

  get size(): number {
    return this.#size;
  }
}
