// Build the single musefs binary with `deno compile` for x86_64 and aarch64
// Linux into dist/. `deno compile` needs the matching Deno runtime ("denort"):
// it downloads it unless DENORT_BIN (or a per-target DENORT_BIN_X86_64 /
// DENORT_BIN_AARCH64) points at one. When neither is possible the build stops
// with one line saying so.
//
//   npx deno task build                 # both targets
//   npx deno task build --target x86_64 # one target

import denoJson from "./deno.json" with { type: "json" };
import { DENO_FLAGS } from "./src/cli/deno_flags.ts";

export type Arch = "x86_64" | "aarch64";
export const ARCHES: readonly Arch[] = ["x86_64", "aarch64"];

/** Modules loaded as Workers by URL: not reachable from main.ts's static import graph. */
export const WORKER_MODULES = ["src/scan/probe_worker.ts", "src/fuse/io_worker.ts"] as const;

export interface CompileStep {
  arch: Arch;
  target: string;
  output: string;
  args: string[];
  /** DENORT_BIN for this step, when the runtime is supplied locally. */
  denortBin?: string;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The compile command for each requested target. Pure apart from checking which workers exist. */
export function compilePlan(
  arches: readonly Arch[] = ARCHES,
  env: Record<string, string | undefined> = {},
  root = ".",
): CompileStep[] {
  const version = denoJson.version;
  const includes = WORKER_MODULES.filter((m) => exists(`${root}/${m}`));
  return arches.map((arch) => {
    const target = `${arch}-unknown-linux-gnu`;
    const output = `dist/musefs-${version}-${arch}-linux`;
    const args = [
      "compile",
      "--target",
      target,
      "--output",
      output,
      "--no-npm",
      "--exclude",
      "node_modules",
      ...includes.flatMap((m) => ["--include", m]),
      // The binary runs with exactly the shipped flags (src/cli/deno_flags.ts).
      ...DENO_FLAGS,
      "main.ts",
    ];
    const denortBin = env[`DENORT_BIN_${arch.toUpperCase()}`] ??
      (arch === hostArch() ? env.DENORT_BIN : undefined);
    return { arch, target, output, args, denortBin };
  });
}

function hostArch(): Arch {
  return Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
}

/** Can deno fetch its compile runtime? A HEAD request with a short timeout. */
async function runtimeDownloadable(): Promise<boolean> {
  try {
    const res = await fetch("https://dl.deno.land/", {
      method: "HEAD",
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

async function main(args: string[]): Promise<number> {
  let arches: Arch[] = [...ARCHES];
  const i = args.indexOf("--target");
  if (i >= 0) {
    const want = args[i + 1];
    if (want !== "x86_64" && want !== "aarch64") {
      console.error(`build: --target must be x86_64 or aarch64, got ${JSON.stringify(want)}`);
      return 2;
    }
    arches = [want];
  }
  const plan = compilePlan(arches, Deno.env.toObject());
  const needDownload = plan.some((s) => !s.denortBin);
  if (needDownload && !(await runtimeDownloadable())) {
    const missing = plan.filter((s) => !s.denortBin).map((s) => s.arch).join(", ");
    console.error(
      `build: cannot compile for ${missing}: deno compile needs its runtime (denort), which cannot be ` +
        `downloaded from this machine; set DENORT_BIN_X86_64 / DENORT_BIN_AARCH64 (or DENORT_BIN for the host ` +
        `architecture) to a denort ${
          denoJson.version ? "binary matching deno " + Deno.version.deno : "binary"
        }`,
    );
    return 1;
  }
  await Deno.mkdir("dist", { recursive: true });
  for (const step of plan) {
    const env: Record<string, string> = {};
    if (step.denortBin) env.DENORT_BIN = step.denortBin;
    console.error(`build: ${step.target} → ${step.output}`);
    const { code } = await new Deno.Command(Deno.execPath(), { args: step.args, env }).spawn()
      .status;
    if (code !== 0) {
      console.error(`build: deno compile failed for ${step.target} (exit ${code})`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
