// `musefs art`: link an image to the selected tracks (content-addressed: the
// same bytes are stored once; the mime comes from the bytes), unlink
// pictures, or extract them into a directory. One transaction per run.

import { join } from "node:path";
import { MAX_ART_BYTES } from "../format/mod.ts";
import { sniffImage } from "../format/mod.ts";
import {
  artBytes,
  setTrackArt,
  type Store,
  trackArtInfo,
  trackArtLinks,
  upsertArt,
} from "../store/mod.ts";
import type { ArtAction, ArtOptions } from "./curate_options.ts";
import { pictureTypeName } from "./curate_values.ts";
import { CliError, EXIT_OK } from "./errors.ts";
import type { Io } from "./io.ts";
import { confirmSize, explainBusy, select } from "./select.ts";

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/bmp": "bmp",
};

function readImage(
  path: string,
): { data: Uint8Array; mime: string; width: number | null; height: number | null } {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw new CliError(`cannot read the image ${path}: ${(e as Error).message}`);
  }
  if (!info.isFile) throw new CliError(`${path} is not a file`);
  if (info.size > MAX_ART_BYTES) {
    throw new CliError(
      `${path} is ${info.size} bytes, over the store's limit of ${MAX_ART_BYTES} bytes per picture ` +
        "(16 MiB − 64 KiB); scale it down first",
    );
  }
  const data = Deno.readFileSync(path);
  const image = sniffImage(data);
  if (image === null) {
    throw new CliError(`${path} is not an image musefs can embed (JPEG, PNG, GIF, WebP or BMP)`);
  }
  return { data, ...image };
}

function extract(store: Store, ids: readonly number[], dir: string, io: Io): number {
  Deno.mkdirSync(dir, { recursive: true });
  let written = 0;
  for (const id of ids) {
    for (const a of trackArtInfo(store, id)) {
      const ext = EXTENSIONS[a.mime.toLowerCase()] ?? "bin";
      const path = join(dir, `${id}-${a.ordinal}-${pictureTypeName(a.pictureType)}.${ext}`);
      Deno.writeFileSync(path, artBytes(store, a.artId));
      io.out(path);
      written++;
    }
  }
  return written;
}

function plan(store: Store, id: number, action: ArtAction, artId: number) {
  const links = trackArtLinks(store, id);
  if (action.op === "rm") {
    return links.filter((l) => action.pictureType !== null && l.pictureType !== action.pictureType);
  }
  if (action.op !== "set") return links;
  const link = { artId, pictureType: action.pictureType, description: action.description };
  const at = links.findIndex((l) => l.pictureType === action.pictureType);
  if (at < 0) return [...links, link];
  // The first picture of that type is replaced; further ones of that type go.
  return links.flatMap((l, i) =>
    i === at ? [link] : l.pictureType === action.pictureType ? [] : [l]
  );
}

export async function runArt(options: ArtOptions, io: Io): Promise<number> {
  const { action } = options;
  const image = action.op === "set" ? readImage(action.image) : null;
  const writes = action.op !== "extract" && !options.dryRun;
  const sel = await select(options.selection, writes ? "rw" : "ro");
  try {
    if (action.op === "extract") {
      const n = sel.store.readTransaction(() => extract(sel.store, sel.ids, action.dir, io));
      io.err(`extracted ${n} pictures from ${sel.ids.length} tracks into ${action.dir}`);
      return EXIT_OK;
    }
    confirmSize(sel.ids.length, options.yes, options.dryRun);
    if (options.dryRun) {
      for (const id of sel.ids) {
        const before = trackArtLinks(sel.store, id);
        const after = plan(sel.store, id, action, -1);
        if (action.op === "set") {
          io.out(
            `track ${id}: link ${action.image} (${image!.mime}, ${image!.data.length} bytes) as ` +
              pictureTypeName(action.pictureType),
          );
        } else if (after.length !== before.length) {
          io.out(`track ${id}: unlink ${before.length - after.length} pictures`);
        }
      }
      io.out("dry run: nothing written");
      return EXIT_OK;
    }
    let changed = 0;
    try {
      sel.store.transaction(() => {
        const artId = image ? upsertArt(sel.store, image) : -1;
        for (const id of sel.ids) {
          if (setTrackArt(sel.store, id, plan(sel.store, id, action, artId))) changed++;
        }
      });
    } catch (e) {
      throw explainBusy(e, sel.store.path);
    }
    io.out(
      `${
        action.op === "set" ? "linked" : "unlinked"
      }: ${changed} of ${sel.ids.length} tracks changed`,
    );
  } finally {
    sel.store.close();
  }
  return EXIT_OK;
}
