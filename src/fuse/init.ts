// FUSE_INIT: what we ask of the kernel, limited to what it offers.

import {
  type FieldsOf,
  FUSE_KERNEL_MINOR_VERSION,
  FUSE_KERNEL_VERSION,
  Init,
  Init2,
  type InitIn,
  type InitOut,
} from "../../ffi/fuse_abi.ts";

/** What INIT's answer depends on: the kernel's offer (from fuse_init_in). */
export type KernelInit = Pick<FieldsOf<typeof InitIn>, "minor" | "flags" | "flags2">;

/** 1 MiB reads: 256 pages of 4 KiB (DESIGN: 128 KiB reads halve throughput). */
export const MAX_PAGES = 256;
/**
 * Stack depth for passthrough, as the original: 2 lets backing files live on
 * a stacked filesystem such as overlayfs (common in containers); the price is
 * that this mount cannot itself be an overlayfs lower layer.
 */
export const PASSTHROUGH_STACK_DEPTH = 2;

export interface InitWishes {
  maxReadaheadKib: number;
  maxBackground: number;
  /** Structure-only mode with CAP_SYS_ADMIN: ask for kernel passthrough. */
  passthrough: boolean;
}

export interface Negotiated {
  out: FieldsOf<typeof InitOut>;
  /** The kernel accepted passthrough (FOPEN_PASSTHROUGH may be used). */
  passthrough: boolean;
  minor: number;
}

const WANTED = Init.ASYNC_READ | Init.PARALLEL_DIROPS | Init.DO_READDIRPLUS |
  Init.READDIRPLUS_AUTO | Init.MAX_PAGES | Init.INIT_EXT;

export function negotiateInit(kernel: KernelInit, wishes: InitWishes): Negotiated {
  const minor = Math.min(FUSE_KERNEL_MINOR_VERSION, kernel.minor);
  const flags = WANTED & kernel.flags;
  let flags2 = 0;
  let maxStackDepth = 0;
  const passthrough = wishes.passthrough && (flags & Init.INIT_EXT) !== 0 &&
    (kernel.flags2 & Init2.PASSTHROUGH) !== 0 && minor >= 40;
  if (passthrough) {
    flags2 |= Init2.PASSTHROUGH;
    maxStackDepth = PASSTHROUGH_STACK_DEPTH;
  }
  const maxBackground = Math.max(1, Math.min(wishes.maxBackground, 0xffff));
  return {
    minor,
    passthrough,
    out: {
      major: FUSE_KERNEL_VERSION,
      minor,
      maxReadahead: Math.min(wishes.maxReadaheadKib * 1024, 0xffffffff),
      flags,
      flags2,
      maxBackground,
      congestionThreshold: Math.max(1, Math.floor(maxBackground * 3 / 4)),
      maxWrite: 4096,
      timeGran: 1,
      maxPages: MAX_PAGES,
      mapAlignment: 0,
      maxStackDepth,
    },
  };
}
