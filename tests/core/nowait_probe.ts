// File systems without RWF_NOWAIT for the tests of the per-file-system
// fallback. Two kinds behave differently: tmpfs (/dev/shm), whose data is
// memory and is read inline with a plain pread, and a FUSE store (bindfs -r,
// as mergerfs or a network file system would be), whose reads go to the I/O
// workers. Tests that need one say so (`ignore`) where there is none.

import * as libc from "../../ffi/libc.ts";
import { scratchDir } from "../scratch.ts";

/** Whether preadv2(RWF_NOWAIT) on a /dev/shm file answers EOPNOTSUPP (raw, not through readNow). */
function probeTmpfs(): boolean {
  let tmp;
  try {
    tmp = scratchDir("musefs-nowait-probe-", { dir: "/dev/shm" });
  } catch {
    return false;
  }
  using _ = tmp;
  const path = `${tmp.path}/probe`;
  Deno.writeFileSync(path, new Uint8Array(4096));
  const fd = libc.open(path, libc.O_RDONLY | libc.O_CLOEXEC);
  try {
    libc.preadv2(fd, new libc.IoVec(1).push(new Uint8Array(4096), 0, 4096), 0, libc.RWF_NOWAIT);
    return false;
  } catch (e) {
    return e instanceof libc.ErrnoError && e.errno === libc.E.EOPNOTSUPP;
  } finally {
    libc.close(fd);
  }
}

/** /dev/shm is a tmpfs without RWF_NOWAIT (as the Linux kernels of 2024–2026 have it). */
export const tmpfsLacksNowait: boolean = probeTmpfs();

function hasBindfs(): boolean {
  try {
    return new Deno.Command("bindfs", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A FUSE store can be mounted here: /dev/fuse, bindfs, and root. */
export const noFuseStore: boolean = (() => {
  try {
    Deno.statSync("/dev/fuse");
  } catch {
    return true;
  }
  return Deno.uid() !== 0 || !hasBindfs();
})();

/** A directory (`src`, writable) served read-only through bindfs at `mnt`: a FUSE store. */
export interface FuseStore extends AsyncDisposable {
  readonly src: string;
  readonly mnt: string;
}

async function isMountpoint(path: string): Promise<boolean> {
  const r = await new Deno.Command("mountpoint", { args: ["-q", path] }).output();
  return r.success;
}

/** Mount a fresh FUSE store; unmounted (lazily if busy) and removed when the scope ends. */
export async function fuseStore(): Promise<FuseStore> {
  const base = scratchDir("musefs-fuse-store-");
  const src = `${base.path}/src`;
  const mnt = `${base.path}/mnt`;
  Deno.mkdirSync(src);
  Deno.mkdirSync(mnt);
  const r = await new Deno.Command("bindfs", { args: ["-r", src, mnt], stderr: "piped" }).output();
  if (!r.success) {
    base[Symbol.dispose]();
    throw new Error(`bindfs -r ${src} ${mnt}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return {
    src,
    mnt,
    async [Symbol.asyncDispose]() {
      if (await isMountpoint(mnt)) {
        const u = await new Deno.Command("umount", { args: [mnt], stderr: "null" }).output();
        if (!u.success) await new Deno.Command("umount", { args: ["-l", mnt] }).output();
      }
      base[Symbol.dispose]();
    },
  };
}
