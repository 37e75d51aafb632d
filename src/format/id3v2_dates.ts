// Dates between ID3v2.3 and the store. ID3v2.3 splits a recording date over
// three frames: TYER (year, "2004"), TDAT (day and month, "DDMM") and TIME
// ("HHMM"); ID3v2.4 has one TDRC timestamp ("2004-05-06T07:08"), which is what
// the store keeps as `date` for every format. Reading folds the v2.3 frames
// into `date`; writing a v2.3 tag splits `date` again.

import type { TagEntry } from "./types.ts";

const YEAR = /^\d{4}$/;
const DDMM = /^(\d{2})(\d{2})$/;
const HHMM = /^(\d{2})(\d{2})$/;

/**
 * `date` rows from TYER/TDAT/TIME rows (the i-th TDAT and TIME complete the
 * i-th TYER): `YYYY`, `YYYY-MM-DD` when TDAT is DDMM, `YYYY-MM-DDTHH:MM` when
 * TIME is HHMM too. The three keys are replaced by `date` only when the tag
 * has no `date` of its own and every TYER is a four-digit year; otherwise the
 * rows are left as they are (written back under their own frame ids).
 */
export function foldDate(tags: TagEntry[]): TagEntry[] {
  const years = tags.filter((t) => t.key === "TYER").map((t) => t.value.trim());
  if (years.length === 0 || tags.some((t) => t.key === "date")) return tags;
  if (!years.every((y) => YEAR.test(y))) return tags;
  const dats = tags.filter((t) => t.key === "TDAT").map((t) => t.value.trim());
  const times = tags.filter((t) => t.key === "TIME").map((t) => t.value.trim());
  const dates = years.map((year, i) => {
    const d = DDMM.exec(dats[i] ?? "");
    if (d === null) return year;
    const t = HHMM.exec(times[i] ?? "");
    const day = `${year}-${d[2]}-${d[1]}`;
    return t === null ? day : `${day}T${t[1]}:${t[2]}`;
  });
  const out: TagEntry[] = [];
  let placed = false;
  for (const t of tags) {
    if (t.key !== "TYER" && t.key !== "TDAT" && t.key !== "TIME") out.push(t);
    else if (!placed) {
      placed = true;
      for (const value of dates) out.push({ key: "date", value, ordinal: 0 });
    }
  }
  return out;
}

const TIMESTAMP = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::\d{2})?)?)?)?$/;

/**
 * The v2.3 frames for one `date` value: TYER always, TDAT (DDMM) with a full
 * day, TIME (HHMM) with a time of day. A value that is not an ISO-like
 * timestamp has no v2.3 split: null (the caller writes it as TYER verbatim).
 */
export function splitDate(value: string): { TYER: string; TDAT?: string; TIME?: string } | null {
  const m = TIMESTAMP.exec(value.trim());
  if (m === null) return null;
  const [, year, month, day, hour, minute] = m;
  if (month === undefined || day === undefined) return { TYER: year };
  const dat = `${day}${month}`;
  if (hour === undefined) return { TYER: year, TDAT: dat };
  return { TYER: year, TDAT: dat, TIME: `${hour}${minute}` };
}
