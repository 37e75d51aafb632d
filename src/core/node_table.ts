// The tree's nodes by inode (see tree.ts).

/**
 * Nodes by inode. The allocator hands inodes out densely from 2, so an array
 * indexed by inode does what a Map would without hashing every access. A
 * removed node leaves a hole (one 8-byte slot: inodes are never reused), so
 * the array is as long as the highest inode it has held.
 */
export class NodeTable<T> {
  readonly #slots: (T | undefined)[] = [];
  #size = 0;

  get(inode: number): T | undefined {
    return this.#slots[inode];
  }

  set(inode: number, node: T): void {
    if (this.#slots[inode] === undefined) this.#size++;
    this.#slots[inode] = node;
  }

  delete(inode: number): void {
    if (this.#slots[inode] === undefined) return;
    this.#slots[inode] = undefined;
    this.#size--;
  }

  get size(): number {
    return this.#size;
  }

  *[Symbol.iterator](): IterableIterator<[number, T]> {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const node = slots[i];
      if (node !== undefined) yield [i, node];
    }
  }
}
