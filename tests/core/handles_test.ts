// The hot-path containers that replace Map churn: WeightedLru (a list through
// its entries, with or without a probation share), SlotTable (reused integer slots) and the library's handles
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

/**
 * The probation share's meaning, kept the plain way: two arrays, oldest
 * first. New entries wait in `fresh` (first in, first out, at most
 * `probation` in weight) until their second use moves them to `order`.
 */
class ModelProbation {
  fresh: { key: number; value: string; weight: number; used: boolean }[] = [];
  order: { key: number; value: string; weight: number; used: boolean }[] = [];
  constructor(readonly budget: number, readonly probation: number) {}
  #find(key: number) {
    for (const list of [this.fresh, this.order]) {
      const i = list.findIndex((e) => e.key === key);
      if (i >= 0) return { list, i, e: list[i] };
    }
    return undefined;
  }
  get(key: number, use = true): string | undefined {
    const at = this.#find(key);
    if (at === undefined) return undefined;
    if (!use) return at.e.value;
    if (at.list === this.order || at.e.used) {
      at.list.splice(at.i, 1);
      this.order.push(at.e);
    } else {
      at.e.used = true;
    }
    return at.e.value;
  }
  set(key: number, value: string, weight: number, used = true): void {
    const w = Math.max(1, weight);
    const at = this.#find(key);
    if (at !== undefined) at.list.splice(at.i, 1);
    if (w > this.budget) return;
    const wasUsed = at?.e.used ?? false;
    const e = { key, value, weight: w, used: wasUsed || used };
    if (at?.list !== this.order && w <= this.probation && !(used && wasUsed)) this.fresh.push(e);
    else this.order.push(e);
    const sum = (l: { weight: number }[]) => l.reduce((n, x) => n + x.weight, 0);
    while (sum(this.fresh) > this.probation) this.fresh.shift();
    while (this.weight > this.budget) {
      if (this.order.length > 0 && this.order[0] !== e) this.order.shift();
      else this.fresh.shift();
    }
  }
  delete(key: number): boolean {
    const at = this.#find(key);
    if (at !== undefined) at.list.splice(at.i, 1);
    return at !== undefined;
  }
  get weight(): number {
    return [...this.fresh, ...this.order].reduce((n, e) => n + e.weight, 0);
  }
}

Deno.test("WeightedLru with a probation share: keeps and evicts as a plain model does", () => {
  for (const seed of [5, 6, 7, 99]) {
    const next = mulberry32(seed);
    const budget = 40 + Math.floor(next() * 60);
    const probation = 8 + Math.floor(next() * 24);
    const lru = new WeightedLru<number, string>(budget, probation);
    const model = new ModelProbation(budget, probation);
    for (let step = 0; step < 4000; step++) {
      const key = Math.floor(next() * 24);
      const op = next();
      const what = `seed ${seed} step ${step}`;
      if (op < 0.35) {
        const use = next() < 0.8;
        assert.equal(lru.get(key, use), model.get(key, use), `get ${what}`);
      } else if (op < 0.75) {
        const weight = next() < 0.03 ? budget + 1 : Math.floor(next() * 12);
        const used = next() < 0.7;
        lru.set(key, `${key}@${step}`, weight, used);
        model.set(key, `${key}@${step}`, weight, used);
      } else if (op < 0.9) {
        assert.equal(lru.delete(key), model.delete(key), `delete ${what}`);
      } else {
        const value = [...model.fresh, ...model.order].find((e) => e.key === key)?.value;
        assert.equal(lru.peek(key), value, what);
      }
      assert.equal(lru.weight, model.weight, `weight ${what}`);
      assert.equal(lru.size, model.fresh.length + model.order.length, `size ${what}`);
      assert.equal(
        lru.probationWeight,
        model.fresh.reduce((n, e) => n + e.weight, 0),
        `probation weight ${what}`,
      );
      assert.ok(lru.weight <= budget && lru.probationWeight <= probation, what);
    }
  }
});

Deno.test("WeightedLru with a probation share: a scan of entries used once never evicts one used twice", () => {
  const lru = new WeightedLru<string, number>(100, 10);
  lru.set("playing", 0, 5);
  assert.equal(lru.get("playing"), 0, "its second use");
  // Built ahead of its open (not yet used): two opens keep it, one does not.
  lru.set("ahead-twice", 1, 5, false);
  lru.get("ahead-twice");
  lru.get("ahead-twice");
  lru.set("ahead-once", 2, 5, false);
  lru.get("ahead-once");
  // A stat looks without using: counted, nothing moves.
  lru.set("stat-only", 3, 5);
  const hits = lru.hits;
  lru.get("stat-only", false);
  assert.equal(lru.hits, hits + 1);
  for (let i = 0; i < 1000; i++) {
    lru.set(`scan${i}`, i, 2);
    lru.get(`scan${i}`, false);
    assert.ok(lru.probationWeight <= 10, `probation within its share at ${i}`);
  }
  assert.equal(lru.peek("playing"), 0, "used twice: kept through the scan");
  assert.equal(lru.peek("ahead-twice"), 1, "built ahead and opened twice: kept");
  assert.equal(lru.peek("ahead-once"), undefined, "built ahead and opened once: gone");
  assert.equal(lru.peek("stat-only"), undefined, "used once and looked at: gone");
  assert.equal(lru.weight, 10 + 10, "the two kept, and the last of the scan in probation");
  // Without a share, the same scan evicts everything older (a plain LRU).
  const plain = new WeightedLru<string, number>(100);
  plain.set("playing", 0, 5);
  plain.get("playing");
  for (let i = 0; i < 1000; i++) plain.set(`scan${i}`, i, 2);
  assert.equal(plain.peek("playing"), undefined);
});

Deno.test("WeightedLru with a probation share: setting an entry again never evicts it", () => {
  const lru = new WeightedLru<string, number>(20, 8);
  lru.set("a", 1, 4);
  lru.set("b", 2, 4);
  lru.set("a", 3, 8, false); // fills the share: b goes, a stays
  assert.deepEqual([lru.peek("a"), lru.peek("b")], [3, undefined]);
  lru.set("big", 4, 12); // heavier than the share: straight to recency order
  assert.equal(lru.probationWeight, 8);
  assert.equal(lru.weight, 20);
  lru.get("big");
  lru.set("big", 5, 20); // the whole budget: everything else goes, never itself
  assert.deepEqual([lru.peek("a"), lru.peek("big"), lru.weight], [undefined, 5, 20]);
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
