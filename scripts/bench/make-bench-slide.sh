#!/usr/bin/env bash
# Generates (once; cached) the 40x benchmark slide used by scripts/bench/read-tiles.js:
# a generic pyramidal BigTIFF, 256x256 JPEG (Q85) tiles, 0.25 um/px, >= 40,000 x 40,000 px,
# made with libvips by tiling ../shared/data/CMU-1-Small-Region.svs (2220 x 2967 px) 19 x 14 times
# (42,180 x 41,538 px) and cropping to 41,984 x 41,472 px (164 x 162 tiles of 256 px).
# The crop makes both sides multiples of 256, so every pyramid level is exactly half the one above:
# the 10x level has a downsample of exactly 4 and a 256-px tile at level 2 maps to an integer, tile-
# aligned level-0 position. Without it (41,538 / 4 is not an integer) OpenSlide reports a downsample
# of 4.0001, every read lands at a fractional offset, and cairo/pixman resample each tile, which
# more than triples the cost of a read and hides everything else (see docs/README-bench-read.md).
# Nothing it writes is committed: bench-data/ is gitignored.
#
# Usage: scripts/bench/make-bench-slide.sh [output.tif]    (default: bench-data/big40x.tif)
# Prints the path of the slide on its last line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="${BENCH_SOURCE_SLIDE:-$ROOT/../shared/data/CMU-1-Small-Region.svs}"
OUT="${1:-$ROOT/bench-data/big40x.tif}"
ACROSS=19   # 19 x 2220 = 42,180 px
DOWN=14     # 14 x 2967 = 41,538 px
WIDTH=41984  # 164 x 256
HEIGHT=41472 # 162 x 256

if [[ -s "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi

command -v vips >/dev/null || { echo "make-bench-slide: libvips' 'vips' command is missing (apt-get install libvips-tools)" >&2; exit 1; }
[[ -r "$SRC" ]] || { echo "make-bench-slide: source slide not found: $SRC" >&2; exit 1; }

DIR="$(dirname "$OUT")"
mkdir -p "$DIR"

# The .v intermediate is uncompressed RGB (~5.3 GB); the TIFF is ~1-2 GB. Ask for 8 GiB free.
NEED_KB=$((8 * 1024 * 1024))
AVAIL_KB="$(df -Pk "$DIR" | awk 'NR==2 {print $4}')"
if (( AVAIL_KB < NEED_KB )); then
  echo "make-bench-slide: need ~8 GiB free in $DIR, have $((AVAIL_KB / 1024)) MiB" >&2
  exit 1
fi

TMP_V="$DIR/.big40x.$$.v"
TMP_TIF="$DIR/.$(basename "$OUT").$$.tmp.tif"
trap 'rm -f "$TMP_V" "$TMP_TIF"' EXIT

echo "make-bench-slide: replicating $SRC ${ACROSS}x${DOWN} ..." >&2
vips replicate "$SRC" "$TMP_V" "$ACROSS" "$DOWN"
echo "make-bench-slide: cropping to ${WIDTH}x${HEIGHT} and writing the pyramidal TIFF ..." >&2
# Same as `vips tiffsave ... --tile --tile-width 256 --tile-height 256 --pyramid --compression jpeg
# --Q 85 --bigtiff --xres 4000 --yres 4000 --resunit cm`, fused with the crop (no second intermediate).
# xres/yres are in pixels per millimetre: 4000 px/mm = 0.25 um/px (40x).
vips crop "$TMP_V" \
  "$TMP_TIF[tile,tile-width=256,tile-height=256,pyramid,compression=jpeg,Q=85,bigtiff,xres=4000,yres=4000,resunit=cm]" \
  0 0 "$WIDTH" "$HEIGHT"
rm -f "$TMP_V"
mv -f "$TMP_TIF" "$OUT"
echo "$OUT"
