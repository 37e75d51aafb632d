// humanBytes / humanDuration against the values indicatif prints
// (HumanBytes: binary prefixes, two decimals; HumanDuration: one rounded unit).

import assert from "node:assert/strict";
import { humanBytes, humanDuration } from "../../src/cli/human.ts";

Deno.test("humanBytes: bytes below 1 KiB, then binary prefixes with two decimals", () => {
  const cases: Array<[number, string]> = [
    [0, "0 B"],
    [15, "15 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1_500, "1.46 KiB"],
    [1_500_000, "1.43 MiB"],
    [1_500_000_000, "1.40 GiB"],
    [1_500_000_000_000, "1.36 TiB"],
    [1_500_000_000_000_000, "1.33 PiB"],
    [432_747_315, "412.70 MiB"],
    [1024 * 1024 - 1, "1024.00 KiB"],
  ];
  for (const [n, text] of cases) assert.equal(humanBytes(n), text, String(n));
});

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const W = 7 * D;
const Y = 365 * D;

Deno.test("humanDuration: below two seconds", () => {
  assert.equal(humanDuration(0), "0 seconds");
  assert.equal(humanDuration(1), "0 seconds");
  assert.equal(humanDuration(499), "0 seconds");
  assert.equal(humanDuration(500), "1 second");
  assert.equal(humanDuration(1499), "1 second");
  assert.equal(humanDuration(1500), "2 seconds");
  assert.equal(humanDuration(-5), "0 seconds");
});

Deno.test("humanDuration: one unit shows as the smaller unit; 1.5 units switch to 2", () => {
  assert.equal(humanDuration(M), "60 seconds");
  assert.equal(humanDuration(H), "60 minutes");
  assert.equal(humanDuration(D), "24 hours");
  assert.equal(humanDuration(W), "7 days");
  assert.equal(humanDuration(Y), "52 weeks");
  assert.equal(humanDuration(M + M / 2 - S / 2 - 1), "89 seconds");
  assert.equal(humanDuration(M + M / 2 - S / 2), "2 minutes");
  assert.equal(humanDuration(H + H / 2 - M / 2 - 1), "89 minutes");
  assert.equal(humanDuration(D + D / 2 - H / 2 - 1), "35 hours");
  assert.equal(humanDuration(D + D / 2 - H / 2), "2 days");
  assert.equal(humanDuration(W + W / 2 - D / 2 - 1), "10 days");
  assert.equal(humanDuration(Y + Y / 2 - W / 2 - 1), "78 weeks");
});

Deno.test("humanDuration: n units round at n + 1/2", () => {
  for (const [unit, name] of [[S, "second"], [M, "minute"], [H, "hour"], [D, "day"]] as const) {
    assert.equal(humanDuration(2 * unit), `2 ${name}s`);
    assert.equal(humanDuration(2 * unit + unit / 2 - 1), `2 ${name}s`);
    assert.equal(humanDuration(2 * unit + unit / 2), `3 ${name}s`);
    assert.equal(humanDuration(3 * unit), `3 ${name}s`);
  }
  assert.equal(humanDuration(3 * Y), "3 years");
});
