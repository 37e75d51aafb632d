// The Prometheus text exposition of the metrics file.

import type { MetricSample } from "../core/mod.ts";

/** Two sources reported one metric name: a bug in whichever of them does not own it. */
export class DuplicateMetricError extends Error {
  override readonly name = "DuplicateMetricError";
  constructor(readonly metric: string) {
    super(
      `metric ${metric} is reported twice (by the server and the library?): ` +
        "each name must have one owner",
    );
  }
}

/**
 * Prometheus text exposition of `samples`, in order. A name reported twice
 * throws DuplicateMetricError rather than dropping one of the values: the
 * names are fixed in code, so any test that reads the metrics file finds the
 * clash.
 */
export function renderMetrics(samples: MetricSample[]): string {
  const seen = new Set<string>();
  let text = "";
  for (const s of samples) {
    if (seen.has(s.name)) throw new DuplicateMetricError(s.name);
    seen.add(s.name);
    text += `# HELP ${s.name} ${s.help}\n# TYPE ${s.name} ${s.type}\n${s.name} ${s.value}\n`;
  }
  return text;
}
