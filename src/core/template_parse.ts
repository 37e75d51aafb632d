// Path template grammar:
//
//   $name            field; name = maximal run of ASCII [A-Za-z0-9_]
//   ${a|b|c}         fallback chain: everything up to the next "}", split on "|"
//   ${tracknumber:02} zero-padding (beyond the original): number before any "/",
//                    padded to the width; non-numeric values pass through
//   $!{a|b}          path field: the value may contribute several directories
//   [ ... ]          conditional section, emitted only when a field inside resolved
//   $[  $]           literal brackets; a "]" outside any section is literal
//   $ + anything else  a literal "$"
//
// Field names are ASCII-lowercased (templates are case-insensitive). Control
// characters in literal text, an unterminated "${"/"$!{", an unclosed "[",
// sections nested deeper than 64 and unknown syntax after ":" are errors that
// name the problem and its 1-based column (in characters).

import { MusefsError } from "../model/mod.ts";

/** One candidate of a fallback chain. */
export interface FieldRef {
  /** ASCII-lowercased field name ("" never matches). */
  readonly name: string;
  /** Zero-padding width, 0 = none. */
  readonly pad: number;
}

export type TemplateNode =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "field"; readonly chain: readonly FieldRef[] }
  | { readonly kind: "path"; readonly chain: readonly string[] }
  | { readonly kind: "section"; readonly body: readonly TemplateNode[] };

export const MAX_SECTION_DEPTH = 64;
/** Widest zero-padding accepted (`${x:64}`). */
export const MAX_PAD_WIDTH = 64;

export class TemplateError extends MusefsError {
  override readonly name = "TemplateError";
  constructor(readonly column: number, readonly problem: string) {
    super("template", `template error at column ${column}: ${problem}`, column);
  }
}

function isFieldChar(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_]$/.test(c);
}

export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

interface OpenSection {
  body: TemplateNode[];
  column: number;
}

/** Parse a template into its nodes; throws TemplateError. */
export function parseTemplate(source: string): TemplateNode[] {
  const chars = [...source]; // code points, so columns count characters
  const stack: OpenSection[] = [{ body: [], column: 0 }];
  let literal = "";
  const top = () => stack[stack.length - 1];
  const flush = () => {
    if (literal !== "") top().body.push({ kind: "literal", text: literal });
    literal = "";
  };

  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    const column = i + 1;
    if (c === "$") {
      const next = chars[i + 1];
      if (next === "{" || (next === "!" && chars[i + 2] === "{")) {
        const isPath = next === "!";
        const open = isPath ? "$!{" : "${";
        const start = i + open.length;
        const end = chars.indexOf("}", start);
        if (end < 0) throw new TemplateError(column, `unterminated "${open}"`);
        const content = chars.slice(start, end).join("");
        flush();
        top().body.push(
          isPath
            ? { kind: "path", chain: parsePathChain(content, column) }
            : { kind: "field", chain: parseChain(content, column) },
        );
        i = end + 1;
      } else if (next === "[" || next === "]") {
        literal += next;
        i += 2;
      } else if (isFieldChar(next)) {
        let end = i + 1;
        while (isFieldChar(chars[end])) end++;
        flush();
        const name = asciiLower(chars.slice(i + 1, end).join(""));
        top().body.push({ kind: "field", chain: [{ name, pad: 0 }] });
        i = end;
      } else {
        literal += "$"; // what follows is parsed on its own
        i += 1;
      }
    } else if (c === "[") {
      if (stack.length > MAX_SECTION_DEPTH) {
        throw new TemplateError(column, `sections nested deeper than ${MAX_SECTION_DEPTH}`);
      }
      flush();
      stack.push({ body: [], column });
      i += 1;
    } else if (c === "]" && stack.length > 1) {
      flush();
      const section = stack.pop()!;
      top().body.push({ kind: "section", body: section.body });
      i += 1;
    } else {
      const code = c.codePointAt(0)!;
      if (code < 0x20) {
        const hex = code.toString(16).toUpperCase().padStart(4, "0");
        throw new TemplateError(column, `control character U+${hex} in the template`);
      }
      literal += c;
      i += 1;
    }
  }
  if (stack.length > 1) throw new TemplateError(top().column, 'unclosed "["');
  flush();
  return stack[0].body;
}

function parseChain(content: string, column: number): FieldRef[] {
  return content.split("|").map((candidate) => {
    const colon = candidate.indexOf(":");
    if (colon < 0) return { name: asciiLower(candidate), pad: 0 };
    const name = asciiLower(candidate.slice(0, colon));
    const spec = candidate.slice(colon + 1);
    const width = /^[0-9]{1,3}$/.test(spec) ? Number(spec) : NaN;
    if (!(width >= 1 && width <= MAX_PAD_WIDTH)) {
      throw new TemplateError(
        column,
        `invalid format ":${spec}" for field "${name}" (expected a zero-padding width ` +
          `1–${MAX_PAD_WIDTH}, like "\${tracknumber:02}")`,
      );
    }
    return { name, pad: width };
  });
}

function parsePathChain(content: string, column: number): string[] {
  if (content.includes(":")) {
    throw new TemplateError(
      column,
      `a format (":…") does not apply to a path field "$!{${content}}"`,
    );
  }
  return content.split("|").map(asciiLower);
}

/** Lowercased names of every field the template references, in first-use order. */
export function referencedNames(nodes: readonly TemplateNode[]): string[] {
  const out = new Set<string>();
  const walk = (ns: readonly TemplateNode[]) => {
    for (const n of ns) {
      if (n.kind === "field") n.chain.forEach((f) => out.add(f.name));
      else if (n.kind === "path") n.chain.forEach((f) => out.add(f));
      else if (n.kind === "section") walk(n.body);
    }
  };
  walk(nodes);
  return [...out];
}
