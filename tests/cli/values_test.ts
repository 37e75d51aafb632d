// The value parsers and the account databases, in-process.

import assert from "node:assert/strict";
import {
  isBoolish,
  parseBoolish,
  parseChoice,
  parseFallback,
  parseOctalMode,
  parseOwner,
  parseUnsigned,
} from "../../src/cli/values.ts";
import { parseAccountDatabase } from "../../src/cli/accounts.ts";
import { ValueError } from "../../src/cli/errors.ts";

const rejects = (fn: () => unknown, message?: RegExp) =>
  assert.throws(fn, (e) => e instanceof ValueError && (!message || message.test(e.message)));

Deno.test("parseBoolish accepts the clap boolish words in any case and nothing else", () => {
  for (const w of ["true", "yes", "on", "1", "t", "y", "TRUE", "Yes", "ON", "T", "Y"]) {
    assert.equal(parseBoolish(w), true, w);
    assert.ok(isBoolish(w));
  }
  for (const w of ["false", "no", "off", "0", "f", "n", "FALSE", "No", "oFF", "F", "N"]) {
    assert.equal(parseBoolish(w), false, w);
  }
  for (const w of ["", "2", "tru", "yess", " true", "enable", "-1"]) {
    rejects(() => parseBoolish(w), /expected a boolean/);
    assert.equal(isBoolish(w), false);
  }
});

Deno.test("parseUnsigned checks the type's range", () => {
  assert.equal(parseUnsigned("0", 16), 0);
  assert.equal(parseUnsigned("65535", 16), 65535);
  rejects(() => parseUnsigned("65536", 16), /from 0 to 65535/);
  assert.equal(parseUnsigned("4294967295", 32), 4294967295);
  rejects(() => parseUnsigned("4294967296", 32), /from 0 to 4294967295/);
  assert.equal(parseUnsigned("18446744073709551615", 64), Number.MAX_SAFE_INTEGER);
  rejects(() => parseUnsigned("18446744073709551616", 64), /from 0 to 18446744073709551615/);
  assert.equal(parseUnsigned("+7", 16), 7);
  assert.equal(parseUnsigned("007", 16), 7);
  for (const bad of ["", "-1", "1.0", "1e3", "0x10", " 1", "abc"]) {
    rejects(() => parseUnsigned(bad, 64), /non-negative integer/);
  }
});

Deno.test("parseOctalMode: bare octal up to 7777", () => {
  assert.equal(parseOctalMode("644"), 0o644);
  assert.equal(parseOctalMode("0755"), 0o755);
  assert.equal(parseOctalMode("7777"), 0o7777);
  assert.equal(parseOctalMode("0"), 0);
  rejects(() => parseOctalMode("10000"), /max 7777/);
  for (const bad of ["", "8", "0o644", "rw", "-644", "64 4"]) rejects(() => parseOctalMode(bad));
});

Deno.test("parseFallback splits at the first '=' and lowercases ASCII field names only", () => {
  assert.deepEqual(parseFallback("Genre=Misc"), ["genre", "Misc"]);
  assert.deepEqual(parseFallback("a=b=c"), ["a", "b=c"]);
  assert.deepEqual(parseFallback("year="), ["year", ""]);
  assert.deepEqual(parseFallback("ÄLBUM=x"), ["Älbum", "x"]);
  rejects(() => parseFallback("=x"), /empty field/);
  rejects(() => parseFallback("genre"), /FIELD=VALUE/);
});

Deno.test("parseChoice is exact", () => {
  assert.equal(parseChoice("full", ["none", "full"] as const), "full");
  rejects(() => parseChoice("Full", ["none", "full"] as const), /one of: none, full/);
});

Deno.test("account databases: third field is the id, first entry wins, junk skipped", () => {
  const ids = parseAccountDatabase(
    [
      "# comment",
      "root:x:0:0:root:/root:/bin/bash",
      "alice:x:1000:1000::/home/alice:/bin/sh",
      "alice:x:2000:2000::/home/alice2:/bin/sh",
      "broken-line",
      "+nis",
      "bad:x:notanumber:0",
      ":x:5:5",
      "",
    ].join("\n"),
  );
  assert.deepEqual([...ids], [["root", 0], ["alice", 1000]]);
});

Deno.test("parseOwner: digits are ids even when a user has that name; names via /etc/passwd", () => {
  assert.equal(parseOwner("0"), 0);
  assert.equal(parseOwner("4294967295"), 4294967295);
  assert.equal(parseOwner("root"), 0);
  rejects(() => parseOwner("no-such-user-musefs"), /no such user/);
  rejects(() => parseOwner(""), /no such user/);
  rejects(() => parseOwner("4294967296"), /no such user/);
});
