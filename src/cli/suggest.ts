// "Did you mean …?": the nearest known word to a mistyped one, for unknown
// commands and unknown flags.

/** Edit distance counting an adjacent transposition as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate nearest to `word`, if near enough: at most `maxEdits` edits
 * (default: 1 for short words, 2 from 5 characters, 3 from 10), or a
 * candidate that `word` is the start of (`--dry` → `dry-run`). Ties go to
 * the first candidate.
 */
export function nearest(
  word: string,
  candidates: Iterable<string>,
  maxEdits?: number,
): string | undefined {
  const limit = maxEdits ?? (word.length >= 10 ? 3 : word.length >= 5 ? 2 : 1);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = word.length >= 3 && c.startsWith(word) ? 1 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
