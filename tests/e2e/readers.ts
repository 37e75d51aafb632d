// Three independent readers, each asked what it sees in one file, as sorted
// "key=value" lines: mutagen (Python), ffprobe (FFmpeg's demuxers) and
// kid3-cli (TagLib). Nothing is normalized here: the comparison test applies
// the documented normalizations itself.

import { PY, run } from "../fixtures/tools.ts";

export type ReaderName = "mutagen" | "ffprobe" | "taglib";
export const READERS: readonly ReaderName[] = ["mutagen", "ffprobe", "taglib"];

const HERE = import.meta.dirname!;

/** A reader's view of a file: sorted lines "section:key=value". */
export type View = string[];

// Tools print in the locale's encoding and language when asked; CI may run
// with LANG unset, so every reader gets the same UTF-8 locale.
const ENV = { LANG: "C.UTF-8", LC_ALL: "C.UTF-8", QT_QPA_PLATFORM: "offscreen" };

async function output(cmd: string[]): Promise<string> {
  const r = await run(cmd, { env: ENV });
  if (r.code !== 0) throw new Error(`${cmd[0]} failed (${r.code}) on ${cmd.at(-1)}: ${r.stderr}`);
  return new TextDecoder().decode(r.stdout);
}

function lines(entries: Iterable<[string, unknown]>): View {
  const out: string[] = [];
  for (const [k, v] of entries) {
    if (Array.isArray(v)) { for (const x of v) out.push(`${k}=${String(x)}`); }
    else out.push(`${k}=${String(v)}`);
  }
  return out.sort();
}

async function mutagenView(path: string): Promise<View> {
  const j = JSON.parse(await output([PY, `${HERE}/../fixtures/mutagen_view.py`, path]));
  return lines([
    ["type", j.type],
    ...Object.entries(j.info as Record<string, unknown>).map(([k, v]) =>
      [`info:${k}`, v] as [string, unknown]
    ),
    ...Object.entries(j.tags as Record<string, string[]>).map(([k, v]) =>
      [`tag:${k}`, v] as [string, unknown]
    ),
  ]);
}

interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  duration_ts?: number;
  width?: number;
  height?: number;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
}

async function ffprobeView(path: string): Promise<View> {
  const j = JSON.parse(
    await output([
      "ffprobe",
      "-v",
      "error",
      "-show_format",
      "-show_streams",
      "-of",
      "json",
      path,
    ]),
  );
  const out: [string, unknown][] = [["format", j.format.format_name]];
  for (const [k, v] of Object.entries((j.format.tags ?? {}) as Record<string, string>)) {
    out.push([`tag:${k.toLowerCase()}`, v]);
  }
  for (const s of j.streams as ProbeStream[]) {
    const p = `stream${s.index}`;
    out.push([`${p}:codec`, `${s.codec_type}/${s.codec_name}`]);
    if (s.codec_type === "audio") {
      out.push([`${p}:audio`, `${s.sample_rate} Hz, ${s.channels} ch`]);
      out.push([`${p}:duration_ts`, s.duration_ts]);
    } else {
      out.push([`${p}:size`, `${s.width}x${s.height}`]);
      out.push([`${p}:attached_pic`, s.disposition?.attached_pic ?? 0]);
    }
    for (const [k, v] of Object.entries(s.tags ?? {})) {
      out.push([`${p}:tag:${k.toLowerCase()}`, v]);
    }
  }
  return lines(out);
}

interface Kid3Frame {
  name: string;
  value: string;
}

async function taglibView(path: string): Promise<View> {
  const j = JSON.parse(
    await output(["kid3-cli", "-c", JSON.stringify({ method: "get", params: ["all"] }), path]),
  );
  const file = j.result.taggedFile;
  const out: [string, unknown][] = [["format", file.format]];
  for (const tag of ["tag1", "tag2", "tag3"]) {
    const t = file[tag] as { format: string; frames: Kid3Frame[] } | undefined;
    if (t === undefined) continue;
    out.push([`${tag}:format`, t.format]);
    for (const f of t.frames) out.push([`${tag}:${f.name}`, f.value]);
  }
  return lines(out);
}

/** What `reader` sees in the file at `path`. */
export function readView(reader: ReaderName, path: string): Promise<View> {
  switch (reader) {
    case "mutagen":
      return mutagenView(path);
    case "ffprobe":
      return ffprobeView(path);
    case "taglib":
      return taglibView(path);
  }
}
