// The in-flight payload budget shared by the probe Workers and the writer.

import assert from "node:assert/strict";
import { acquireBudget, BUDGET_KIB, releaseBudget } from "../../src/scan/messages.ts";

Deno.test("budget: takes units while room remains, lets one oversized outcome through alone", () => {
  const cells = new Int32Array(new SharedArrayBuffer(4));
  acquireBudget(cells, BUDGET_KIB * 3); // nothing in flight: passes however large
  assert.equal(Atomics.load(cells, 0), BUDGET_KIB * 3);
  releaseBudget(cells, BUDGET_KIB * 3);
  acquireBudget(cells, BUDGET_KIB - 1);
  acquireBudget(cells, 1);
  assert.equal(Atomics.load(cells, 0), BUDGET_KIB);
  releaseBudget(cells, BUDGET_KIB);
  assert.equal(Atomics.load(cells, 0), 0);
});

Deno.test("budget: a Worker over budget waits until the writer releases", async () => {
  const shared = new SharedArrayBuffer(8);
  const cells = new Int32Array(shared); // [0] budget, [1] "released" flag
  acquireBudget(cells, BUDGET_KIB); // full
  const messages = new URL("../../src/scan/messages.ts", import.meta.url).href;
  const src = `
    import { acquireBudget } from ${JSON.stringify(messages)};
    self.onmessage = (e) => {
      const cells = new Int32Array(e.data);
      self.postMessage("waiting");
      acquireBudget(cells, 10);
      self.postMessage(Atomics.load(cells, 1) === 1 ? "after release" : "too early");
    };`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const replies: string[] = [];
    let notify = () => {};
    worker.onmessage = (e) => {
      replies.push(e.data);
      notify();
    };
    const next = () => new Promise<void>((r) => notify = r);
    let got = next();
    worker.postMessage(shared);
    await got;
    assert.deepEqual(replies, ["waiting"]);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(replies, ["waiting"], "still waiting while the budget is full");
    got = next();
    Atomics.store(cells, 1, 1);
    releaseBudget(cells, BUDGET_KIB);
    await got;
    assert.deepEqual(replies, ["waiting", "after release"]);
    assert.equal(Atomics.load(cells, 0), 10);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
