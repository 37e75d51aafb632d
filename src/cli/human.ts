// Human-readable sizes and durations, as the original printed them through
// indicatif's HumanBytes and HumanDuration.

const BINARY_PREFIXES = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"];

/**
 * Bytes in binary units: `15 B`, `1.46 KiB`, `412.70 MiB` (two decimals,
 * as indicatif's HumanBytes).
 */
export function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let prefix = -1;
  while (value >= 1024 && prefix < BINARY_PREFIXES.length - 1) {
    value /= 1024;
    prefix++;
  }
  return `${value.toFixed(2)} ${BINARY_PREFIXES[prefix]}B`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

const UNITS: ReadonlyArray<readonly [ms: number, name: string]> = [
  [YEAR, "year"],
  [WEEK, "week"],
  [DAY, "day"],
  [HOUR, "hour"],
  [MINUTE, "minute"],
  [SECOND, "second"],
];

/**
 * A duration in milliseconds as words, rounded to the one largest fitting
 * unit: "0 seconds", "1 second", "89 seconds", "2 minutes", "35 hours".
 * Like indicatif's HumanDuration, "1 <unit>" is never shown for units above
 * seconds: below about 1.5 units the next smaller unit is used instead.
 */
export function humanDuration(ms: number): string {
  const d = Math.max(0, ms);
  let index = UNITS.length - 1;
  for (let i = 0; i < UNITS.length - 1; i++) {
    const [unit] = UNITS[i];
    const [next] = UNITS[i + 1];
    if (d + next / 2 >= unit + unit / 2) {
      index = i;
      break;
    }
  }
  const [unit, name] = UNITS[index];
  let count = Math.round(d / unit);
  if (index < UNITS.length - 1) count = Math.max(count, 2);
  return `${count} ${name}${count === 1 ? "" : "s"}`;
}
