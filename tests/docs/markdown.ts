// Shared helpers of the documentation tests: the repository root, reading
// its files, and the bits of Markdown they look at (headings, code blocks).

import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A repository file (path relative to the root) as text. */
export const read = (path: string): string => Deno.readTextFileSync(join(ROOT, path));

/** True when `path` (relative to the repository root) exists. */
export function fileExists(path: string): boolean {
  try {
    Deno.statSync(join(ROOT, path));
    return true;
  } catch {
    return false;
  }
}

/** The markdown without fenced code blocks (links there are not links). */
export function stripFences(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, "");
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces → "-", duplicates numbered. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of stripFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

export interface Block {
  lang: string;
  code: string;
}

/** Fenced code blocks in document order, with their info-string language. */
export function codeBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    lang: m[1],
    code: m[2],
  }));
}
