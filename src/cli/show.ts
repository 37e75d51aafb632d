// `musefs show TARGETS…`: what the store holds for each selected track — the
// backing file, format, served paths, text tags (multi-values in order),
// binary tags and pictures as size + SHA-256, content_version, updated_at.
// `--json` prints one object per line in the shape docs/cli.md documents.

import { XATTR } from "../core/mod.ts";
import { getXattrWithin } from "../../ffi/xattr.ts";
import {
  binaryTagInfo,
  getTrack,
  groupTags,
  listTextTags,
  type Store,
  trackArtInfo,
} from "../store/mod.ts";
import type { ShowOptions } from "./curate_options.ts";
import { pictureTypeName } from "./curate_values.ts";
import { EXIT_OK } from "./errors.ts";
import type { Io } from "./io.ts";
import { MOUNT_ANSWER_MS, mountStatus, musefsMountpoints } from "./mounts.ts";
import { select } from "./select.ts";

/** One track as `show --json` prints it (docs/cli.md "show --json"). */
export interface ShownTrack {
  id: number;
  backing_path: string;
  format: string;
  served_paths: string[];
  content_version: number;
  updated_at: number;
  tags: Record<string, string[]>;
  binary_tags: { key: string; ordinal: number; size: number; sha256: string }[];
  art: {
    ordinal: number;
    picture_type: number;
    picture_type_name: string;
    mime: string;
    description: string;
    width: number | null;
    height: number | null;
    size: number;
    sha256: string;
  }[];
}

/** The store's view of track `id` (it must exist). */
export function describeTrack(store: Store, id: number, served: string[]): ShownTrack {
  const row = getTrack(store, id)!;
  return {
    id,
    backing_path: row.backingPath,
    format: row.format,
    served_paths: served,
    content_version: row.contentVersion,
    updated_at: row.updatedAt,
    tags: Object.fromEntries(groupTags(listTextTags(store, id))),
    binary_tags: binaryTagInfo(store, id),
    art: trackArtInfo(store, id).map((a) => ({
      ordinal: a.ordinal,
      picture_type: a.pictureType,
      picture_type_name: pictureTypeName(a.pictureType),
      mime: a.mime,
      description: a.description,
      width: a.width,
      height: a.height,
      size: a.size,
      sha256: a.sha256,
    })),
  };
}

/** Where every live mount of `storePath` serves each of `ids` (absolute paths). */
async function servedElsewhere(
  storePath: string,
  ids: readonly number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const mp of musefsMountpoints()) {
    const status = await mountStatus(mp);
    if (status?.store !== storePath) continue;
    for (const id of ids) {
      const rel = await getXattrWithin(mp, `${XATTR.servedPrefix}${id}`, MOUNT_ANSWER_MS);
      if (rel === null) continue;
      const list = out.get(id) ?? [];
      list.push(`${mp}/${rel}`);
      out.set(id, list);
    }
  }
  return out;
}

function textLines(t: ShownTrack): string[] {
  const lines = [
    `track ${t.id}`,
    `  backing path     ${t.backing_path}`,
    `  format           ${t.format}`,
  ];
  for (const p of t.served_paths) lines.push(`  served as        ${p}`);
  lines.push(
    `  content_version  ${t.content_version}`,
    `  updated_at       ${t.updated_at} (${new Date(t.updated_at * 1000).toISOString()})`,
    "  tags",
  );
  for (const [key, values] of Object.entries(t.tags)) {
    values.forEach((v, i) => lines.push(`    ${key}${values.length > 1 ? `[${i}]` : ""} = ${v}`));
  }
  if (t.binary_tags.length > 0) lines.push("  binary tags");
  for (const b of t.binary_tags) {
    lines.push(`    ${b.key}[${b.ordinal}]  ${b.size} bytes  sha256 ${b.sha256}`);
  }
  if (t.art.length > 0) lines.push("  art");
  for (const a of t.art) {
    const size = a.width && a.height ? `  ${a.width}x${a.height}` : "";
    const desc = a.description === "" ? "" : `  "${a.description}"`;
    lines.push(
      `    ${a.ordinal}  ${a.picture_type_name} (${a.picture_type})  ${a.mime}${size}  ` +
        `${a.size} bytes  sha256 ${a.sha256}${desc}`,
    );
  }
  return lines;
}

export async function runShow(options: ShowOptions, io: Io): Promise<number> {
  const sel = await select(options.selection, "ro");
  try {
    const storePath = Deno.realPathSync(sel.store.path);
    const unseen = sel.ids.filter((id) => !sel.served.has(id));
    const elsewhere = unseen.length > 0 && unseen.length <= 1000
      ? await servedElsewhere(storePath, unseen)
      : new Map<number, string[]>();
    sel.store.readTransaction(() => {
      sel.ids.forEach((id, i) => {
        const served = sel.served.get(id) ?? elsewhere.get(id) ?? [];
        const shown = describeTrack(sel.store, id, served);
        if (options.json) io.out(JSON.stringify(shown));
        else {
          if (i > 0) io.out("");
          for (const line of textLines(shown)) io.out(line);
        }
      });
    });
  } finally {
    sel.store.close();
  }
  return EXIT_OK;
}
