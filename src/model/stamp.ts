// When a backing file still is the file the store recorded: the one rule for
// comparing stamps (size, mtime_ns, ctime_ns), used by the scanner and the
// mount alike. Times compare at the coarser of the two precisions, so a store
// stamped at millisecond or second precision (by another program, or a file
// system that keeps no finer times) still validates against a nanosecond
// reading, and vice versa.

/** A backing file's size and times, as the tracks table records them. */
export interface Stamp {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const SECOND = 1_000_000_000n;
const MILLI = 1_000_000n;

/** The coarsest precision a stamp value could have been recorded with. */
function grain(ns: bigint): bigint {
  if (ns % SECOND === 0n) return SECOND;
  if (ns % MILLI === 0n) return MILLI;
  return 1n;
}

function sameTime(a: bigint, b: bigint): boolean {
  if (a === b) return true;
  const ga = grain(a);
  const gb = grain(b);
  const g = ga > gb ? ga : gb;
  if (g === 1n) return false;
  return floorDiv(a, g) === floorDiv(b, g);
}

function floorDiv(a: bigint, g: bigint): bigint {
  const q = a / g;
  return a < 0n && q * g !== a ? q - 1n : q;
}

/**
 * True when an observed stamp matches a recorded one. Times compare at the
 * coarser of the two precisions, so a store stamped at millisecond or second
 * precision still validates against a nanosecond reading (and vice versa).
 */
export function stampsMatch(recorded: Stamp, observed: Stamp): boolean {
  return recorded.size === observed.size && sameTime(recorded.mtimeNs, observed.mtimeNs) &&
    sameTime(recorded.ctimeNs, observed.ctimeNs);
}

/**
 * True when an open file still holds the bytes it held when `opened` was
 * read from it: same size and mtime. ctime is left out on purpose: a rename,
 * chmod or new hard link moves it without touching a byte, and an open file
 * must keep working across those.
 */
export function sameContent(opened: Stamp, now: Stamp): boolean {
  return opened.size === now.size && opened.mtimeNs === now.mtimeNs;
}
