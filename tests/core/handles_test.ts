// The hot-path containers that replace Map churn: WeightedLru (a list through
// its entries), SlotTable (reused integer slots) and the library's handles
// built on it (files even, directories odd, slots reused once released).

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import { WeightedLru } from "../../src/core/lru.ts";
import { SlotTable } from "../../src/core/slots.ts";
import { closing } from "../scratch.ts";
import { mulberry32 } from "../fixtures/tools.ts";
import { assemble, expectedBytes, fixtureStore } from "./ingest.ts";

/** The LRU's meaning, kept the plain way: an array, oldest first. */
class ModelLru {
  entries: { key: number; value: string; weight: number }[] = [];
  constructor(readonly budget: number) {}
  get(key: number): string | undefined {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1);
    this.entries.push(e);
    return e.value;
  }
  set(key: number, value: string, weight: number): void {
    this.delete(key);
    const w = Math.max(1, weight);
    if (w > this.budget) return;
    this.entries.push({ key, value, weight: w });
    while (this.weight > this.budget) this.entries.shift();
  }
  delete(key: number): boolean {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i >= 0) this.entries.splice(i, 1);
    return i >= 0;
  }
  get weight(): number {
    return this.entries.reduce((n, e) => n + e.weight, 0);
  }
}

Deno.test("WeightedLru: evicts least recently used first, as a plain model does", () => {
  for (const seed of [1, 2, 3, 42]) {
    const next = mulberry32(seed);
    const budget = 40 + Math.floor(next() * 60);
    const lru = new WeightedLru<number, string>(budget);
    const model = new ModelLru(budget);
    for (let step = 0; step < 4000; step++) {
      const key = Math.floor(next() * 24);
      const op = next();
      const what = `seed ${seed} step ${step}`;
      if (op < 0.35) {
        assert.equal(lru.get(key), model.get(key), `get ${what}`);
      } else if (op < 0.75) {
        // Now and then heavier than the whole budget: not kept, and the old value goes.
        const weight = next() < 0.03 ? budget + 1 : Math.floor(next() * 12);
        lru.set(key, `${key}@${step}`, weight);
        model.set(key, `${key}@${step}`, weight);
      } else if (op < 0.85) {
        assert.equal(lru.delete(key), model.delete(key), `delete ${what}`);
      } else if (op < 0.95) {
        assert.equal(lru.peek(key), model.entries.find((e) => e.key === key)?.value, what);
      } else {
        lru.retain((k) => k % 5 !== step % 5);
        model.entries = model.entries.filter((e) => e.key % 5 !== step % 5);
      }
      assert.equal(lru.weight, model.weight, `weight ${what}`);
      assert.equal(lru.size, model.entries.length, `size ${what}`);
      assert.ok(lru.weight <= budget, what);
    }
    // Same entries, and the same order: evicting everything goes oldest first.
    const order: number[] = [];
    const keys = model.entries.map((e) => e.key);
    for (const k of keys) assert.ok(lru.peek(k) !== undefined);
    lru.set(-1, "big", budget);
    for (const k of keys) if (lru.peek(k) === undefined) order.push(k);
    assert.deepEqual(order, keys);
    assert.equal(lru.size, 1);
    lru.clear();
    assert.equal(lru.size, 0);
    assert.equal(lru.weight, 0);
  }
});

Deno.test("WeightedLru: a hit protects an entry from the next eviction; counts hits and misses", () => {
  const lru = new WeightedLru<string, number>(3);
  lru.set("a", 1, 1);
  lru.set("b", 2, 1);
  lru.set("c", 3, 1);
  assert.equal(lru.get("a"), 1);
  lru.set("d", 4, 1);
  assert.equal(lru.peek("b"), undefined, "b was the least recently used");
  assert.equal(lru.peek("a"), 1);
  assert.equal(lru.get("zz"), undefined);
  assert.equal(lru.hits, 1);
  assert.equal(lru.misses, 1);
  // Re-weighing an entry in place can evict older ones, never itself.
  lru.set("c", 30, 3);
  assert.deepEqual([lru.peek("a"), lru.peek("c"), lru.peek("d")], [undefined, 30, undefined]);
  assert.equal(lru.weight, 3);
});

Deno.test("SlotTable: freed slots are reused; a freed slot reads as empty", () => {
  const t = new SlotTable<string>();
  assert.deepEqual([t.add("a"), t.add("b"), t.add("c")], [0, 1, 2]);
  assert.equal(t.remove(1), "b");
  assert.equal(t.remove(1), undefined, "twice");
  assert.equal(t.get(1), undefined);
  assert.deepEqual(t.slots(), [0, 2]);
  assert.equal(t.add("d"), 1, "the freed slot first");
  assert.equal(t.add("e"), 3);
  assert.equal(t.size, 4);
  for (const bad of [-1, 0.5, 99, NaN]) assert.equal(t.get(bad), undefined, `slot ${bad}`);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.add("f"), 0);
});

Deno.test("library handles: files even, directories odd, released ones reused; reads stay exact", async () => {
  using t = await fixtureStore(["flac", "mp3_v24"]);
  using lib = closing(openLibrary(t.db, { template: "$format/$title", pollIntervalMs: 0 }));
  const [a, b] = [...t.tracks.values()].map((tr) => ({
    ino: lib.tree.inodeOfTrack(tr.id)!,
    bytes: expectedBytes(t.store, tr.id),
  }));
  const dir = lib.opendir(1);
  assert.equal(dir % 2, 1, "a directory handle is odd");
  const fa = lib.open(a.ino, 0).fh;
  const fb = lib.open(b.ino, 0).fh;
  assert.ok(fa % 2 === 0 && fb % 2 === 0 && fa !== fb && fa > 0, `file handles ${fa} ${fb}`);
  lib.release(fa);
  const fb2 = lib.open(b.ino, 0).fh;
  assert.equal(fb2, fa, "the released handle is reused");
  assert.deepEqual(assemble(lib.read(fb, b.ino, 0, b.bytes.length)), b.bytes);
  assert.deepEqual(assemble(lib.read(fb2, b.ino, 0, b.bytes.length)), b.bytes);
  // A directory handle never names an open file (and the other way round).
  assert.equal(lib.readdir(dir, 1, 0).length, 4);
  lib.release(dir);
  assert.deepEqual(assemble(lib.read(fb, b.ino, 0, b.bytes.length)), b.bytes);
  lib.releasedir(fb);
  assert.deepEqual(assemble(lib.read(fb, b.ino, 0, b.bytes.length)), b.bytes);
  lib.release(fb);
  lib.release(fb2);
  lib.releasedir(dir);
  assert.equal(lib.fds.handles, 0);
});
