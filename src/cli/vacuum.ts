// `musefs vacuum --db PATH`: compact the store and report the space reclaimed.

import { vacuumStore } from "../scan/vacuum.ts";
import { humanBytes } from "./human.ts";
import type { Io } from "./io.ts";
import type { VacuumOptions } from "./options.ts";
import { EXIT_OK } from "./errors.ts";

/** The result line: `vacuumed <path>: <before> → <after> (reclaimed <delta>)`. */
export function vacuumSummary(path: string, before: number, after: number): string {
  if (after >= before) return `vacuumed ${path}: ${humanBytes(after)} (already compact)`;
  return `vacuumed ${path}: ${humanBytes(before)} → ${humanBytes(after)} ` +
    `(reclaimed ${humanBytes(before - after)})`;
}

/** Throws VacuumError ("missing", "in-use") or StoreError; run.ts reports them. */
export function runVacuum(options: VacuumOptions, io: Io): Promise<number> {
  const { path, before, after } = vacuumStore(options.db);
  io.out(vacuumSummary(path, before, after));
  return Promise.resolve(EXIT_OK);
}
