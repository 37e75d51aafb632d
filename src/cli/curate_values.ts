// Value parsers of the curation commands (show, tag, art): tag conditions,
// KEY=VALUE edits and picture types. Each throws a ValueError completing
// "invalid value "<raw>" for --flag: …".

import { ValueError } from "./errors.ts";

/** Edits of more tracks than this at once need --yes. */
export const CONFIRM_OVER = 1000;

export interface Condition {
  key: string;
  op: "=" | "~";
  value: string;
}

/** `FIELD=VALUE` (exact) or `FIELD~TEXT` (substring, any case), split at the first `=` or `~`. */
export function parseCondition(raw: string): Condition {
  const at = raw.search(/[=~]/);
  if (at < 0) throw new ValueError("expected FIELD=VALUE or FIELD~TEXT");
  if (at === 0) throw new ValueError("empty field name");
  return { key: raw.slice(0, at), op: raw[at] as "=" | "~", value: raw.slice(at + 1) };
}

/** `KEY=VALUE`, split at the first `=`; the key must be non-empty. */
export function parseKeyValue(raw: string): [key: string, value: string] {
  const eq = raw.indexOf("=");
  if (eq < 0) throw new ValueError("expected KEY=VALUE");
  if (eq === 0) throw new ValueError("empty key before '='");
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** `KEY` or `KEY=VALUE`. */
export function parseKeyOptionalValue(raw: string): [key: string, value: string | null] {
  const eq = raw.indexOf("=");
  if (eq === 0 || raw === "") throw new ValueError("expected KEY or KEY=VALUE");
  return eq < 0 ? [raw, null] : [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** The ID3/FLAC picture types (0–20) by name, as `--type` accepts them. */
export const PICTURE_TYPES = [
  "other",
  "icon",
  "other-icon",
  "front",
  "back",
  "leaflet",
  "media",
  "lead-artist",
  "artist",
  "conductor",
  "band",
  "composer",
  "lyricist",
  "recording-location",
  "during-recording",
  "during-performance",
  "screen-capture",
  "fish",
  "illustration",
  "band-logo",
  "publisher-logo",
] as const;

/** A picture type name (any case) or number 0–20. */
export function parsePictureType(raw: string): number {
  if (/^\d+$/.test(raw) && Number(raw) <= 20) return Number(raw);
  const i = PICTURE_TYPES.indexOf(raw.toLowerCase() as (typeof PICTURE_TYPES)[number]);
  if (i < 0) throw new ValueError(`expected 0–20 or one of: ${PICTURE_TYPES.join(", ")}`);
  return i;
}

/** The name of picture type `n` ("type N" outside 0–20). */
export function pictureTypeName(n: number): string {
  return PICTURE_TYPES[n] ?? `type ${n}`;
}
