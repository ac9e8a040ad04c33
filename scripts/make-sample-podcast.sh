#!/usr/bin/env bash
# Makes the sample podcast's recordings, transcripts and artwork in
# content/lighthouse-log/ (committed; run again only to change them).
# Needs espeak-ng and ffmpeg: apt-get install -y espeak-ng ffmpeg.
# Then rebuild the committed feeds:
#   rm -rf feeds && cargo run -- build --now 2026-11-25T00:00:00Z
set -euo pipefail
cd "$(dirname "$0")/../content/lighthouse-log"
mkdir -p audio
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name|what is said
episodes=(
    "00-trailer|The Lighthouse Keeper's Log. A serial in three short parts, from the harbor at the end of the breakwater. A new part every Monday. Listen from the first."
    "01-the-lamp|Part one. The lamp. The keeper climbs one hundred and twelve steps each evening, and counts every one of them."
    "02-the-horn|Part two. The horn. For three days the fog did not lift, and the horn kept time for the whole coast."
    "03-the-last-entry|Part three. The last entry. On the final page of the log, in a steady hand: all ships accounted for."
)

for line in "${episodes[@]}"; do
    name=${line%%|*}
    text=${line#*|}
    espeak-ng -v en-us -s 150 -w "$work/$name.wav" "$text"
    # Mono MP3 at 40 kbit/s (speech), with no tags and no encoder version in
    # it (no ID3 tag at all), so the same text makes the same bytes.
    ffmpeg -loglevel error -y -i "$work/$name.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
        -ac 1 -ar 22050 -codec:a libmp3lame -b:a 40k -write_xing 1 -id3v2_version 0 "audio/$name.mp3"
    if [[ $name != 00-* ]]; then
        seconds=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "audio/$name.mp3")
        end=$(python3 -c "s=float('$seconds'); print('%02d:%06.3f' % (s // 60, s % 60))")
        printf 'WEBVTT\n\n00:00.000 --> %s\n%s\n' "$end" "$text" >"audio/$name.vtt"
    fi
done

# Square artwork, 1400 px (Apple Podcasts takes 1400 to 3000): a night sky,
# the sea, a tower and its beam. Few colours: the PNG stays small.
ffmpeg -loglevel error -y -f lavfi -i "color=c=0x14213d:s=1400x1400" -frames:v 1 -fflags +bitexact \
    -vf "drawbox=x=0:y=980:w=1400:h=420:color=0x0b132b:t=fill,\
drawbox=x=640:y=520:w=120:h=460:color=0xe5e5e5:t=fill,\
drawbox=x=640:y=640:w=120:h=60:color=0xc1121f:t=fill,\
drawbox=x=640:y=800:w=120:h=60:color=0xc1121f:t=fill,\
drawbox=x=620:y=440:w=160:h=80:color=0xffd166:t=fill,\
drawbox=x=780:y=455:w=620:h=50:color=0xffd166@0.5:t=fill" \
    artwork.png
ls -l audio artwork.png
