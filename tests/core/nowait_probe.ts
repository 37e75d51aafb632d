// Whether tmpfs (/dev/shm) answers EOPNOTSUPP to RWF_NOWAIT on this kernel,
// as the Linux kernels of 2024–2026 do: tests of the per-file-system fallback
// need such a file system, and say so (`ignore`) where there is none.

import { closeBacking, openBacking, readNow, UNSUPPORTED } from "../../src/core/backing.ts";

function probe(): boolean {
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "musefs-nowait-probe-" });
  } catch {
    return false;
  }
  try {
    Deno.writeFileSync(`${dir}/probe`, new Uint8Array(4096));
    const o = openBacking(`${dir}/probe`);
    try {
      return readNow(o.fd, new Uint8Array(4096), 0, 4096, 0) === UNSUPPORTED;
    } finally {
      closeBacking(o.fd);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** /dev/shm is a tmpfs without RWF_NOWAIT. */
export const tmpfsLacksNowait: boolean = probe();
