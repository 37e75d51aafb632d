// Path templates: every grammar rule, resolution, sanitization,
// sections, --skip-on-missing, served extensions and the derived fields.

import assert from "node:assert/strict";
import type { Format } from "../../src/format/types.ts";
import {
  buildFieldMap,
  type RenderOptions,
  sanitizePathValue,
  servedExtension,
  Template,
  TemplateError,
  zeroPad,
} from "../../src/core/template.ts";
import { MAX_SECTION_DEPTH } from "../../src/core/template_parse.ts";

function render(
  source: string,
  tags: Record<string, string>,
  options: RenderOptions = {},
  format: Format = "flac",
  backingPath = "/music/x.flac",
): string | null {
  return Template.parse(source, options).render({
    fields: buildFieldMap(Object.entries(tags).map(([key, value]) => ({ key, value }))),
    format,
    backingPath,
  });
}

function parseError(source: string): TemplateError {
  try {
    Template.parse(source);
  } catch (e) {
    assert.ok(e instanceof TemplateError, String(e));
    return e;
  }
  assert.fail(`template ${JSON.stringify(source)} should not parse`);
}

// ---- grammar ---------------------------------------------------------------------

Deno.test("$name takes the maximal [A-Za-z0-9_] run and is case-insensitive", () => {
  assert.equal(render("$Artist-$TITLE_2x", { artist: "A", title_2x: "T" }), "A-T.flac");
  assert.equal(render("$artist.$title", { artist: "A", title: "T" }), "A.T.flac");
});

Deno.test("${a|b|c} is a fallback chain, first non-empty wins", () => {
  const t = "${albumartist|Artist|composer}";
  assert.equal(render(t, { albumartist: "AA", artist: "A" }), "AA.flac");
  assert.equal(render(t, { albumartist: "", artist: "A" }), "A.flac");
  assert.equal(render(t, { composer: "C" }), "C.flac");
  assert.equal(render(t, {}), "Unknown.flac");
});

Deno.test("${...} takes any characters up to the next '}' as names", () => {
  // A name with a space never matches a tag: the default fallback renders.
  assert.equal(render("${ artist }", { artist: "A" }), "Unknown.flac");
  assert.equal(render("${}", { artist: "A" }), "Unknown.flac");
  assert.equal(render("${a-b}", { "a-b": "x" }), "x.flac");
});

Deno.test("literal dollars and brackets", () => {
  assert.equal(render("$[$artist$]", { artist: "A" }), "[A].flac");
  assert.equal(render("a]b", {}), "a]b.flac");
  assert.equal(render("cost $ 5", {}), "cost $ 5.flac");
  assert.equal(render("end$", {}), "end$.flac");
  assert.equal(render("$!x", {}), "$!x.flac");
  assert.equal(render("$$title", { title: "T" }), "$T.flac");
  assert.equal(render("$-", {}), "$-.flac");
});

Deno.test("sections nest up to 64 levels; 65 is an error at the 65th '['", () => {
  const ok = "[".repeat(MAX_SECTION_DEPTH) + "$title" + "]".repeat(MAX_SECTION_DEPTH);
  assert.equal(render(ok, { title: "T" }), "T.flac");
  const tooDeep = "[".repeat(MAX_SECTION_DEPTH + 1) + "$title" + "]".repeat(MAX_SECTION_DEPTH + 1);
  const e = parseError(tooDeep);
  assert.equal(e.column, MAX_SECTION_DEPTH + 1);
  assert.match(e.message, /^template error at column 65: sections nested deeper than 64$/);
});

Deno.test("parse errors name the problem and its column", () => {
  const cases: Array<[string, number, RegExp]> = [
    ["$artist/${album", 9, /unterminated "\$\{"/],
    ["$artist/$!{album", 9, /unterminated "\$!\{"/],
    ["a[b[c]", 2, /unclosed "\["/],
    ["a\u0000b", 2, /control character U\+0000/],
    ["$artist\t$title", 8, /control character U\+0009/],
    ["x\ny", 2, /control character U\+000A/],
    ["[$a\u001f]", 4, /control character U\+001F/],
    ["🎵${x", 2, /unterminated/], // columns count characters, not UTF-16 units
  ];
  for (const [source, column, problem] of cases) {
    const e = parseError(source);
    assert.equal(e.column, column, source);
    assert.match(e.message, problem);
    assert.ok(e.message.startsWith(`template error at column ${column}: `), e.message);
  }
  assert.equal(
    parseError("$artist/$alb/${title").message,
    'template error at column 14: unterminated "${"',
  );
});

Deno.test("unknown syntax after ':' is an error, never a silent literal", () => {
  for (
    const bad of ["${x:abc}", "${x:}", "${x:0}", "${x:2a}", "${x:-2}", "${x:02|y:z}", "${x:65}"]
  ) {
    assert.match(parseError(bad).message, /invalid format/, bad);
  }
  assert.match(parseError("$!{path:02}").message, /path field/);
  // DEL and non-ASCII are ordinary literal text.
  assert.equal(render("a\u007fé:\\b", {}), "a\u007fé:\\b.flac");
});

Deno.test("tagKeys lists every referenced tag key once, lowercased, derived fields excluded", () => {
  const t = Template.parse("$AlbumArtist/[${album|Title:02} ]$!{Genre|grouping}/$ext$format$title");
  assert.deepEqual(t.tagKeys, ["albumartist", "album", "title", "genre", "grouping"]);
});

// ---- field values ------------------------------------------------------------------

Deno.test("the field map takes the first row per lowercased key in store order", () => {
  const rows = [
    { key: "ARTIST", value: "upper" },
    { key: "Artist", value: "mixed" },
    { key: "artist", value: "lower-0" },
    { key: "artist", value: "lower-1" },
    { key: "title", value: "" },
    { key: "title", value: "second" },
  ];
  const fields = buildFieldMap(rows);
  assert.equal(fields.get("artist"), "upper");
  // The first title row is empty: the field is missing, later rows do not fill in.
  assert.equal(fields.get("title"), "");
  const t = Template.parse("$artist/$title");
  assert.equal(t.render({ fields, format: "flac", backingPath: "x.flac" }), "upper/Unknown.flac");
});

Deno.test("per-field fallbacks fill in before the default fallback", () => {
  const options = { fallbacks: new Map([["Album", "No Album"], ["artist", ""]]) };
  assert.equal(render("$album", {}, options), "No Album.flac");
  assert.equal(render("$album", { album: "" }, options), "No Album.flac");
  assert.equal(render("$album", { album: "Real" }, options), "Real.flac");
  // An empty per-field fallback counts as missing.
  assert.equal(render("$artist", {}, options), "Unknown.flac");
  // In a chain, each candidate tries its tag then its own fallback before the next.
  assert.equal(render("${album|title}", { title: "T" }, options), "No Album.flac");
  assert.equal(render("$x", {}, { defaultFallback: "??" }), "??.flac");
});

Deno.test("plain values: '/' and control characters become '_', nothing else changes", () => {
  assert.equal(
    render("$artist", { artist: "AC/DC\u0001\t\u001f\u007f é\\:*?" }),
    "AC_DC___\u007f é\\:*?.flac",
  );
  assert.equal(render("$a", {}, { defaultFallback: "x/y\n" }), "x_y_.flac");
  // A value of "." or ".." stays a literal component (the tree drops it).
  assert.equal(render("$artist/$title", { artist: ".", title: "T" }), "./T.flac");
});

Deno.test("path fields split into directories, dropping empty, '.' and '..'", () => {
  assert.equal(
    render("$!{genre}/$title", { genre: "Rock//Prog/./../x\u0001", title: "T" }),
    "Rock/Prog/x_/T.flac",
  );
  assert.deepEqual(sanitizePathValue("/a/b/"), ["a", "b"]);
  const deep = Array.from({ length: 100 }, (_, i) => `d${i}`).join("/");
  const segments = sanitizePathValue(deep);
  assert.equal(segments.length, 64);
  assert.equal(segments[63], "d63");
});

Deno.test("path field resolution: an existing empty tag blocks its fallback; no segment = next", () => {
  const fallbacks = new Map([["genre", "Fallback/Genre"], ["style", "S"]]);
  assert.equal(render("$!{genre}", {}, { fallbacks }), "Fallback/Genre.flac");
  // The tag exists (empty): the per-field fallback is not consulted; the chain moves on.
  assert.equal(render("$!{genre|style}", { genre: "" }, { fallbacks }), "S.flac");
  assert.equal(render("$!{genre|style}", { genre: "./.." }, { fallbacks }), "S.flac");
  assert.equal(render("$!{genre}", { genre: "" }, { fallbacks }), "Unknown.flac");
  assert.equal(render("$!{genre}", { genre: "" }, { fallbacks, skipOnMissing: true }), null);
});

// ---- sections and --skip-on-missing -----------------------------------------------------

Deno.test("a section appears only when a field inside it resolved", () => {
  const t = "$album[ (Disc $discnumber)]/$title";
  assert.equal(render(t, { album: "A", discnumber: "2", title: "T" }), "A (Disc 2)/T.flac");
  assert.equal(render(t, { album: "A", title: "T" }), "A/T.flac");
  // Unresolved fields inside a section render empty, never the default fallback.
  assert.equal(render("[$a-$b]", { b: "B" }), "-B.flac");
  // A section without fields never appears.
  assert.equal(render("x[literal]y", {}), "xy.flac");
  // A per-field fallback counts as resolved.
  assert.equal(render("[($a)]", {}, { fallbacks: new Map([["a", "F"]]) }), "(F).flac");
});

Deno.test("nested sections: resolution counts transitively", () => {
  const t = "[<$a[{$b}]>]";
  assert.equal(render(t, { b: "B" }), "<{B}>.flac");
  assert.equal(render(t, { a: "A" }), "<A>.flac");
  assert.equal(render(t, {}), ".flac");
  assert.equal(render("[x[y]]", {}), ".flac");
});

Deno.test("--skip-on-missing drops a track with an unresolved top-level field only", () => {
  const options = { skipOnMissing: true };
  assert.equal(render("$artist/$title", { title: "T" }, options), null);
  assert.equal(render("$artist/$title", { artist: "", title: "T" }, options), null);
  assert.equal(render("${artist|title}", { title: "T" }, options), "T.flac");
  assert.equal(render("$title[ $year]", { title: "T" }, options), "T.flac");
  assert.equal(
    render("$artist", {}, { ...options, fallbacks: new Map([["artist", "F"]]) }),
    "F.flac",
  );
});

// ---- extensions and derived fields --------------------------------------------------------

Deno.test("served extensions per format, m4b kept, original mode uses the format string", () => {
  const expected: Array<[Format, string, string, string]> = [
    ["flac", "a.flac", "flac", "flac"],
    ["mp3", "a.mp3", "mp3", "mp3"],
    ["m4a", "a.m4a", "m4a", "m4a"],
    ["m4a", "a.M4B", "m4b", "m4a"],
    ["opus", "a.opus", "opus", "opus"],
    ["vorbis", "a.ogg", "ogg", "vorbis"],
    ["oggflac", "a.oga", "oga", "oggflac"],
    ["wav", "a.wav", "wav", "wav"],
  ];
  for (const [format, path, served, original] of expected) {
    assert.equal(servedExtension(format, path), served);
    assert.equal(servedExtension(format, path, "original"), original);
    assert.equal(render("$title", { title: "T" }, {}, format, path), `T.${served}`);
    assert.equal(
      render("$title", { title: "T" }, { extensions: "original" }, format, path),
      `T.${original}`,
    );
  }
});

Deno.test("$ext and $format are derived from the track and win over tags", () => {
  const t = "$format/$ext/${title}";
  assert.equal(render(t, { title: "T", format: "tag" }, {}, "vorbis", "x.ogg"), "vorbis/ogg/T.ogg");
  assert.equal(
    render(t, { title: "T" }, { extensions: "original" }, "vorbis", "x.ogg"),
    "vorbis/vorbis/T.vorbis",
  );
  assert.equal(render("[$ext]", {}, {}, "m4a", "b.m4b"), "m4b.m4b");
});

Deno.test("${field:NN} zero-pads the number before any '/'", () => {
  const t = "${discnumber:02}-${tracknumber:03} $title";
  assert.equal(render(t, { discnumber: "1/2", tracknumber: "7/12", title: "T" }), "01-007 T.flac");
  assert.equal(render(t, { discnumber: "A1", tracknumber: "0012", title: "T" }), "A1-0012 T.flac");
  assert.equal(render("${tracknumber:2}", { tracknumber: " 5 " }), "05.flac");
  // Non-numeric values pass through (then sanitized like any value).
  assert.equal(render("${tracknumber:02}", { tracknumber: "x/y" }), "x_y.flac");
  // Padding applies per candidate, fallback values included.
  assert.equal(
    render("${tracknumber:02|track:04}", {}, { fallbacks: new Map([["track", "9"]]) }),
    "0009.flac",
  );
  // Unresolved: the default fallback is not padded.
  assert.equal(render("${tracknumber:02}", {}), "Unknown.flac");
  assert.equal(zeroPad("123", 2), "123");
  assert.equal(zeroPad("-3", 2), "-3");
});

Deno.test("the default template renders albumartist/album/title", () => {
  const t = Template.parse("$albumartist/$album/$title");
  const fields = buildFieldMap([
    { key: "album", value: "Album" },
    { key: "albumartist", value: "Artist" },
    { key: "title", value: "Song" },
  ]);
  assert.equal(t.render({ fields, format: "mp3", backingPath: "a.mp3" }), "Artist/Album/Song.mp3");
  assert.equal(t.source, "$albumartist/$album/$title");
});
