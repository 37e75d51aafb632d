// Rendering a track's relative path from its tags (docs/templates.md: field
// values, sanitization and structure). The grammar lives in template_parse.ts.
//
// A plain field resolves through its fallback chain (tag value, else the
// per-field --fallback, empty counting as missing); at top level an
// unresolved field renders --default-fallback, or drops the track under
// --skip-on-missing. Inside a [section] an unresolved field renders empty and
// the section appears only if some field in it resolved. The result is the
// concatenation plus "." and the served extension.

import type { Format } from "../format/mod.ts";
import {
  asciiLower,
  type FieldRef,
  parseTemplate,
  referencedNames,
  type TemplateNode,
} from "./template_parse.ts";

export { TemplateError } from "./template_parse.ts";

/** "served": extensions players recognize; "original": the store's format string, as upstream. */
export type { ExtensionMode } from "./defaults.ts";
import type { ExtensionMode } from "./defaults.ts";
import { LIBRARY_DEFAULTS } from "./defaults.ts";

/** Fields computed from the track rather than read from tags; they win over a tag of the same name. */
export const DERIVED_FIELDS: ReadonlySet<string> = new Set(["ext", "format"]);

/** At most this many directories come from one path field (`$!{…}`). */
export const MAX_PATH_FIELD_SEGMENTS = 64;

export const DEFAULT_TEMPLATE = LIBRARY_DEFAULTS.template;
export const DEFAULT_FALLBACK = LIBRARY_DEFAULTS.defaultFallback;

const SERVED: Record<Format, string> = {
  flac: "flac",
  mp3: "mp3",
  m4a: "m4a",
  opus: "opus",
  vorbis: "ogg",
  oggflac: "oga",
  wav: "wav",
};

/** Formats whose served extension also depends on the backing path (`.m4b` audiobooks). */
export const PATH_DEPENDENT_FORMATS: readonly Format[] = ["m4a"];

/** The extension a track is served with (the path matters only for PATH_DEPENDENT_FORMATS). */
export function servedExtension(
  format: Format,
  backingPath: string,
  mode: ExtensionMode = "served",
): string {
  if (mode === "original") return format;
  if (format === "m4a" && backingPath.toLowerCase().endsWith(".m4b")) return "m4b";
  return SERVED[format];
}

export interface RenderOptions {
  /** Per-field fallbacks (`--fallback FIELD=VALUE`); keys are ASCII-lowercased here. */
  fallbacks?: ReadonlyMap<string, string>;
  /** Rendered for an unresolved top-level field (`--default-fallback`). Default "Unknown". */
  defaultFallback?: string;
  /** Drop a track with an unresolved top-level field (`--skip-on-missing`). */
  skipOnMissing?: boolean;
  extensions?: ExtensionMode;
}

/** What a template renders from: one track. */
export interface TrackFields {
  /** Lowercased tag key → value, see `buildFieldMap`. */
  fields: ReadonlyMap<string, string>;
  format: Format;
  backingPath: string;
}

/**
 * The field map of one track: for each ASCII-lowercased key, the value of
 * the first row in `rows`' order. Pass text rows in the store's order
 * (key BINARY, ordinal), so the lowest ordinal wins and, among keys differing
 * only in case, the bytewise-first spelling. Empty values are kept (a path
 * field treats an existing empty tag differently from a missing one).
 */
export function buildFieldMap(
  rows: Iterable<{ readonly key: string; readonly value: string }>,
): Map<string, string> {
  const map = new Map<string, string>();
  for (const { key, value } of rows) {
    const k = asciiLower(key);
    if (!map.has(k)) map.set(k, value);
  }
  return map;
}

// deno-lint-ignore no-control-regex
const UNSAFE_IN_COMPONENT = /[/\x00-\x1f]/g;

/** A plain value as one path component: "/" and control characters become "_". */
export function sanitizeValue(value: string): string {
  // Most values need nothing: a scan of their code units is cheaper than the regex.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x2f) return value.replace(UNSAFE_IN_COMPONENT, "_");
  }
  return value;
}

/** A path field's value as directories: split on "/", drop empty/"."/"..", sanitize, at most 64. */
export function sanitizePathValue(value: string): string[] {
  const out: string[] = [];
  for (const segment of value.split("/")) {
    if (segment === "" || segment === "." || segment === "..") continue;
    out.push(sanitizeValue(segment));
    if (out.length === MAX_PATH_FIELD_SEGMENTS) break;
  }
  return out;
}

/** `${x:NN}`: the number before any "/", zero-padded; anything else unchanged. */
export function zeroPad(value: string, width: number): string {
  const m = /^\s*([0-9]+)\s*(?:\/.*)?$/s.exec(value);
  return m === null ? value : m[1].padStart(width, "0");
}

/** A template field's values, indexed like `Template.tagKeys` (undefined: no such tag). */
export type TagValues = readonly (string | undefined)[];

/** What a field candidate reads: a derived field, or a tag by its index in `tagKeys`. */
interface Source {
  readonly name: string;
  readonly derived: "ext" | "format" | null;
  /** Index in `tagKeys` (-1 for derived fields). */
  readonly index: number;
  /** The per-field `--fallback`, if any. */
  readonly fallback: string | undefined;
}

/** The nodes with every field name resolved once, so rendering does no lookups by name. */
type Compiled =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "field"; readonly chain: readonly (Source & { readonly pad: number })[] }
  | { readonly kind: "path"; readonly chain: readonly Source[] }
  | { readonly kind: "section"; readonly body: readonly Compiled[] };

export class Template {
  readonly nodes: readonly TemplateNode[];
  /** Lowercased tag keys the template reads (derived fields excluded): load only these. */
  readonly tagKeys: readonly string[];
  readonly #fallbacks: ReadonlyMap<string, string>;
  readonly #defaultFallback: string;
  readonly #skipOnMissing: boolean;
  readonly #extensions: ExtensionMode;
  readonly #compiled: readonly Compiled[];
  /** sanitizeValue(--default-fallback), rendered for an unresolved top-level field. */
  readonly #defaultRendered: string;

  private constructor(readonly source: string, nodes: TemplateNode[], options: RenderOptions) {
    this.nodes = nodes;
    this.tagKeys = referencedNames(nodes).filter((n) => !DERIVED_FIELDS.has(n));
    this.#fallbacks = new Map(
      [...(options.fallbacks ?? [])].map(([k, v]) => [asciiLower(k), v] as const),
    );
    this.#defaultFallback = options.defaultFallback ?? DEFAULT_FALLBACK;
    this.#defaultRendered = sanitizeValue(this.#defaultFallback);
    this.#skipOnMissing = options.skipOnMissing ?? false;
    this.#extensions = options.extensions ?? "served";
    this.#compiled = this.#compile(nodes);
  }

  #compile(nodes: readonly TemplateNode[]): Compiled[] {
    const source = (name: string): Source => ({
      name,
      derived: name === "ext" || name === "format" ? name : null,
      index: DERIVED_FIELDS.has(name) ? -1 : this.tagKeys.indexOf(name),
      fallback: this.#fallbacks.get(name),
    });
    return nodes.map((node): Compiled => {
      switch (node.kind) {
        case "literal":
          return node;
        case "section":
          return { kind: "section", body: this.#compile(node.body) };
        case "path":
          return { kind: "path", chain: node.chain.map(source) };
        case "field":
          return {
            kind: "field",
            chain: node.chain.map((ref) => ({ ...source(ref.name), pad: ref.pad })),
          };
      }
    });
  }

  /** Parse `source` (throws TemplateError) and bind the rendering options. */
  static parse(source: string, options: RenderOptions = {}): Template {
    return new Template(source, parseTemplate(source), options);
  }

  /** The extension this template appends for a track. */
  extensionOf(track: Pick<TrackFields, "format" | "backingPath">): string {
    return servedExtension(track.format, track.backingPath, this.#extensions);
  }

  /** The track's relative path with extension, or null when --skip-on-missing drops it. */
  render(track: TrackFields): string | null {
    const values = this.tagKeys.map((k) => track.fields.get(k));
    return this.renderValues(values, track.format, track.backingPath);
  }

  /**
   * `render` over the values of `tagKeys` by index (undefined: no such tag),
   * as the catalog reads them: no map per track.
   */
  renderValues(values: TagValues, format: Format, backingPath: string): string | null {
    const ext = servedExtension(format, backingPath, this.#extensions);
    let out = "";
    for (const node of this.#compiled) {
      if (node.kind === "literal") {
        out += node.text;
      } else if (node.kind === "section") {
        const section = this.#renderSection(node.body, values, format, ext);
        if (section !== null) out += section;
      } else {
        const value = this.#resolve(node, values, format, ext);
        if (value !== undefined) out += value;
        else if (this.#skipOnMissing) return null;
        else out += this.#defaultRendered;
      }
    }
    return `${out}.${ext}`;
  }

  /** A section's text, or null when no field in it resolved. */
  #renderSection(
    body: readonly Compiled[],
    values: TagValues,
    format: Format,
    ext: string,
  ): string | null {
    let text = "";
    let resolved = false;
    for (const node of body) {
      if (node.kind === "literal") {
        text += node.text;
      } else if (node.kind === "section") {
        const inner = this.#renderSection(node.body, values, format, ext);
        if (inner !== null) {
          text += inner;
          resolved = true;
        }
      } else {
        const value = this.#resolve(node, values, format, ext);
        if (value !== undefined) {
          text += value;
          resolved = true;
        }
      }
    }
    return resolved ? text : null;
  }

  /** The sanitized value of a field node, undefined when no candidate resolves. */
  #resolve(
    node: Extract<Compiled, { kind: "field" | "path" }>,
    values: TagValues,
    format: Format,
    ext: string,
  ): string | undefined {
    if (node.kind === "path") {
      for (const src of node.chain) {
        const raw = src.derived === null
          ? (src.index >= 0 ? values[src.index] : undefined) ?? src.fallback
          : src.derived === "ext"
          ? ext
          : format;
        if (raw === undefined) continue;
        const segments = sanitizePathValue(raw);
        if (segments.length > 0) return segments.join("/");
      }
      return undefined;
    }
    for (const src of node.chain) {
      let value: string | undefined;
      if (src.derived !== null) value = src.derived === "ext" ? ext : format;
      else {
        const tag = src.index >= 0 ? values[src.index] : undefined;
        value = tag !== undefined && tag !== "" ? tag : src.fallback || undefined;
      }
      if (value !== undefined) return sanitizeValue(src.pad > 0 ? zeroPad(value, src.pad) : value);
    }
    return undefined;
  }

  /**
   * Which candidate of a field node's chain resolves for `track` and from
   * where: a tag (or derived field), or that candidate's `--fallback`; null
   * when none does. For `mount --dry-run`'s statistics; `render` does not use it.
   */
  trace(
    node: Extract<TemplateNode, { kind: "field" | "path" }>,
    track: TrackFields,
  ): { index: number; from: "tag" | "fallback" } | null {
    const ext = this.extensionOf(track);
    for (let index = 0; index < node.chain.length; index++) {
      if (node.kind === "path") {
        const name = node.chain[index];
        const own = derived(name, track, ext) ?? track.fields.get(name);
        const raw = own ?? this.#fallbacks.get(name);
        if (raw === undefined || sanitizePathValue(raw).length === 0) continue;
        return { index, from: own !== undefined ? "tag" : "fallback" };
      }
      const ref = node.chain[index];
      if (this.#plain(ref, track, ext) === undefined) continue;
      const tag = track.fields.get(ref.name);
      const own = derived(ref.name, track, ext) !== undefined || (tag !== undefined && tag !== "");
      return { index, from: own ? "tag" : "fallback" };
    }
    return null;
  }

  #plain(ref: FieldRef, track: TrackFields, ext: string): string | undefined {
    const derivedValue = derived(ref.name, track, ext);
    if (derivedValue !== undefined) return derivedValue;
    const tag = track.fields.get(ref.name);
    if (tag !== undefined && tag !== "") return tag;
    const fallback = this.#fallbacks.get(ref.name);
    return fallback !== undefined && fallback !== "" ? fallback : undefined;
  }
}

function derived(name: string, track: TrackFields, ext: string): string | undefined {
  if (name === "ext") return ext;
  if (name === "format") return track.format;
  return undefined;
}
