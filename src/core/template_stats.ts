// Per template field, how many tracks lack it and what they got instead (a
// later field of the chain, a --fallback, --default-fallback, dropped by
// --skip-on-missing, or left out of its [section]). Computed by
// `mount --dry-run` in a pass of its own over the store; the tree build
// never pays for it.

import type { TemplateNode } from "./template_parse.ts";
import type { Template, TrackFields } from "./template.ts";

type FieldNode = Extract<TemplateNode, { kind: "field" | "path" }>;

export interface FieldStat {
  /** The field as a template would write it: `$album`, `${albumartist|artist}`, `$!{genre}`. */
  label: string;
  /** The first candidate's name: the field the tracks counted in `lacking` lack. */
  field: string;
  /** Inside a [section] (an unresolved field leaves it out instead of falling back). */
  inSection: boolean;
  tracks: number;
  /** Tracks without a value for the first candidate. */
  lacking: number;
  /** What those tracks got instead → how many, in first-seen order. */
  instead: Map<string, number>;
}

export interface FallbackSettings {
  defaultFallback: string;
  skipOnMissing: boolean;
}

/** How a template would write the node. */
export function fieldLabel(node: FieldNode): string {
  if (node.kind === "path") return `$!{${node.chain.join("|")}}`;
  const [only] = node.chain;
  if (node.chain.length === 1 && only.pad === 0 && /^[a-z0-9_]+$/.test(only.name)) {
    return `$${only.name}`;
  }
  const names = node.chain.map((r) =>
    r.pad > 0 ? `${r.name}:${String(r.pad).padStart(2, "0")}` : r.name
  );
  return `\${${names.join("|")}}`;
}

function fieldNodes(
  nodes: readonly TemplateNode[],
  inSection = false,
  out: Array<[FieldNode, boolean]> = [],
): Array<[FieldNode, boolean]> {
  for (const n of nodes) {
    if (n.kind === "section") fieldNodes(n.body, true, out);
    else if (n.kind !== "literal") out.push([n, inSection]);
  }
  return out;
}

function candidate(node: FieldNode, index: number): string {
  return node.kind === "path" ? node.chain[index] : node.chain[index].name;
}

/** Collects FieldStats over the tracks `observe` is given. */
export class TemplateStats {
  readonly #template: Template;
  readonly #settings: FallbackSettings;
  readonly #nodes: Array<[FieldNode, boolean]>;
  readonly #stats: FieldStat[];

  constructor(template: Template, settings: FallbackSettings) {
    this.#template = template;
    this.#settings = settings;
    this.#nodes = fieldNodes(template.nodes);
    this.#stats = this.#nodes.map(([node, inSection]) => ({
      label: fieldLabel(node),
      field: candidate(node, 0),
      inSection,
      tracks: 0,
      lacking: 0,
      instead: new Map(),
    }));
  }

  observe(track: TrackFields): void {
    for (let i = 0; i < this.#nodes.length; i++) {
      const [node, inSection] = this.#nodes[i];
      const stat = this.#stats[i];
      stat.tracks++;
      const t = this.#template.trace(node, track);
      if (t !== null && t.index === 0 && t.from === "tag") continue;
      stat.lacking++;
      let got: string;
      if (t === null) {
        got = inSection
          ? "left out of its [section]"
          : this.#settings.skipOnMissing
          ? "dropped (--skip-on-missing)"
          : `"${this.#settings.defaultFallback}" (--default-fallback)`;
      } else if (t.from === "tag") {
        got = candidate(node, t.index);
      } else {
        got = `--fallback ${candidate(node, t.index)}`;
      }
      stat.instead.set(got, (stat.instead.get(got) ?? 0) + 1);
    }
  }

  result(): FieldStat[] {
    return this.#stats;
  }
}

/** One line per field: `$album: all 12 tracks have it` or `…: 3 of 12 lack album → artist 2, …`. */
export function fieldStatLines(stats: readonly FieldStat[]): string[] {
  return stats.map((s) => {
    if (s.lacking === 0) return `  ${s.label}: all ${s.tracks} tracks have it`;
    const instead = [...s.instead].map(([what, n]) => `${what} ${n}`).join(", ");
    return `  ${s.label}: ${s.lacking} of ${s.tracks} tracks lack ${s.field} → ${instead}`;
  });
}
