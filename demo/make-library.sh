#!/usr/bin/env bash
# Rebuilds demo/library/: seven short real files, one per format musefs serves, each with
# tags and a small cover. The committed files were made by this script (Debian 12: ffmpeg 5.1,
# flac 1.4.2, lame 3.100, opus-tools 0.2, vorbis-tools 1.4.2, python3-mutagen 1.46); other
# versions give slightly different bytes, which is fine. Run from anywhere:
#
#   bash demo/make-library.sh
set -euo pipefail
export LC_ALL=C.UTF-8 PYTHONUTF8=1 # tag text is UTF-8 whatever the caller's locale
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/library"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"
ff=(ffmpeg -v error -y -nostdin)

# Cover: one 64x64 frame of ffmpeg's test pattern, as JPEG (art for every file).
"${ff[@]}" -f lavfi -i testsrc=size=64x64:rate=1 -frames:v 1 -pix_fmt yuvj420p -c:v mjpeg \
  -q:v 4 "$work/cover.jpg"

# Sources: 3 s stereo sine tones at 44.1 kHz (the WAV is 2 s mono 22.05 kHz to stay small).
tone() { "${ff[@]}" -f lavfi -i "sine=frequency=$1:duration=${3:-3}:sample_rate=${4:-44100}" \
  -ac "${5:-2}" -c:a pcm_s16le -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$2"; }
tone 440 "$work/a.wav"
tone 262 "$work/c.wav"
tone 165 "$work/e.wav"
tone 330 "$work/opus.wav"
tone 392 "$work/vorbis.wav"
tone 523 "$work/oga.wav"
tone 110 "$work/hum.wav" 2 22050 1

A1=(ARTIST="The Oscillators" ALBUMARTIST="The Oscillators" ALBUM="Test Tones" DATE=2024
  GENRE=Electronic TRACKTOTAL=4)
A2=(ARTIST="Vorbis & Friends" ALBUMARTIST="Vorbis & Friends" ALBUM="Ogg Session" DATE=2025
  GENRE=Ambient TRACKTOTAL=3)
tags() { local a; for a in "$@"; do printf -- '-T\n%s\n' "$a"; done; }

# FLAC and FLAC-in-Ogg: tags and picture written by the flac encoder itself.
mapfile -t t < <(tags TITLE=A440 TRACKNUMBER=1 "${A1[@]}")
flac -s -f "${t[@]}" --picture="3|image/jpeg|Front cover||$work/cover.jpg" \
  -o "$out/01-a440.flac" "$work/a.wav"
mapfile -t t < <(tags "TITLE=Lossless in Ogg" TRACKNUMBER=3 "${A2[@]}")
flac -s -f --ogg --serial-number=3 "${t[@]}" \
  --picture="3|image/jpeg|Front cover||$work/cover.jpg" -o "$out/lossless.oga" "$work/oga.wav"

# MP3: LAME 96 kb/s with an ID3v2.3 tag (--ti embeds the cover); mutagen rewrites it as
# ID3v2.4 below, so the year is a TDRC frame (musefs reads `date` from TDRC, not TYER).
lame --quiet -b 96 --id3v2-only --tt "Middle C" --ta "The Oscillators" --tl "Test Tones" \
  --ty 2024 --tn 2/4 --tg Electronic --tv TPE2="The Oscillators" --ti "$work/cover.jpg" \
  "$work/c.wav" "$out/tone_c4.mp3"

# M4A: ffmpeg's AAC at 64 kb/s; the cover is an attached picture stream (MP4 covr).
"${ff[@]}" -i "$work/e.wav" -i "$work/cover.jpg" -map 0:a -map 1:v -c:a aac -b:a 64k -c:v copy \
  -disposition:v attached_pic -metadata title="Café Low E" -metadata artist="The Oscillators" \
  -metadata album_artist="The Oscillators" -metadata album="Test Tones" -metadata date=2024 \
  -metadata track=3/4 -metadata genre=Electronic "$out/low e.m4a"

# Opus: opusenc writes the tags and the picture.
opusenc --quiet --bitrate 32 --serial 1 --title "Opus Sketch" --artist "Vorbis & Friends" \
  --album "Ogg Session" --date 2025 --genre Ambient --tracknumber 1 \
  --comment ALBUMARTIST="Vorbis & Friends" --comment TRACKTOTAL=3 \
  --picture "3||Front cover||$work/cover.jpg" "$work/opus.wav" "$out/sketch.opus"

# Ogg Vorbis: oggenc writes the tags; mutagen adds the picture (oggenc cannot).
oggenc --quiet -q 0 --serial 2 -t "Vorbis Study" -a "Vorbis & Friends" -l "Ogg Session" \
  -d 2025 -G Ambient -N 2 -c ALBUMARTIST="Vorbis & Friends" -c TRACKTOTAL=3 \
  -o "$out/study.ogg" "$work/vorbis.wav"

# WAV: PCM with an ID3v2.4 `id3 ` chunk (title, artists, cover) written by mutagen.
"${ff[@]}" -i "$work/hum.wav" -c:a pcm_s16le -map_metadata -1 -fflags +bitexact "$out/hum.wav"

/usr/bin/python3 - "$out" "$work/cover.jpg" <<'PY'
import base64, sys
from mutagen.flac import Picture
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.id3 import ID3, APIC, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK, Encoding

out, cover = sys.argv[1], open(sys.argv[2], "rb").read()
pic = Picture()
pic.type, pic.mime, pic.desc, pic.width, pic.height, pic.depth = 3, "image/jpeg", "Front cover", 64, 64, 24
pic.data = cover
v = OggVorbis(f"{out}/study.ogg")
v["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
v.save()

ID3(f"{out}/tone_c4.mp3").save(v2_version=4)  # TYER becomes TDRC

w = WAVE(f"{out}/hum.wav")
w.add_tags()
u = Encoding.UTF8
for frame in (TIT2(encoding=u, text="Quiet Hum"), TPE1(encoding=u, text="The Oscillators"),
              TPE2(encoding=u, text="The Oscillators"), TALB(encoding=u, text="Test Tones"),
              TDRC(encoding=u, text="2024"), TRCK(encoding=u, text="4/4"),
              TCON(encoding=u, text="Electronic"),
              APIC(encoding=u, mime="image/jpeg", type=3, desc="Front cover", data=cover)):
    w.tags.add(frame)
w.save(v2_version=4)
PY
ls -l "$out"
du -sh "$out"
