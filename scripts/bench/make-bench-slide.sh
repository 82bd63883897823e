#!/usr/bin/env bash
# Generates (once; cached) a 40x benchmark slide: a generic pyramidal BigTIFF, 256x256 JPEG (Q85)
# tiles, 0.25 um/px, both sides multiples of 256 and >= 40,000 px, made with libvips from
# ../shared/data/CMU-1-Small-Region.svs (2220 x 2967 px). Two kinds:
#
# sparse (default; scripts/bench/read-tiles.js, `run.js --sparse`): bench-data/big40x.tif. The whole
#   source tiled 19 x 14 times (42,180 x 41,538 px) and cropped to 41,984 x 41,472 px (164 x 162 tiles
#   of 256 px). Mostly white: 691 of its 1,681 10x grid patches pass the tissue threshold 0.5.
#
# dense (`run.js`'s default): bench-data/dense40x.tif, 65,536 x 65,536 px (4.29 gigapixels), tissue
#   nearly everywhere, so that its 10x grid has about as many tissue patches as a representative 40x
#   breast slide (~4,000, ../shared/H2GNET.md): 4,096 of its 64 x 64 = 4,096 grid patches pass the
#   threshold 0.5 (counted by scripts/bench/run.js with dist/'s tissueMask and planPatchGrid). The source
#   rectangle x 896, y 640, 704 x 2,304 px was chosen by measurement (python3 + openslide + numpy): of
#   all rectangles on a 64-px grid of the source, the largest in which >= 97 % of the 64 x 64 px blocks
#   (averaged, as on the pyramid's 1/64 level) are tissue by the pipeline's rule (RGB distance from
#   white > 85); 97.2 % of its blocks and 81.7 % of its pixels are (the whole source: 39 % and 32 %).
#   `vips embed --extend repeat` tiles it straight into the TIFF writer (no large intermediate), 93.1
#   times across and 28.4 times down. The tissue mask's closing fills the copies' few white gaps, so
#   every cell passes (a real slide also has background cells, which cost the pipeline next to
#   nothing); 64 x 64 cells: 4,096 lies mid-way in the wanted 3,800-4,400.
#   9 levels (downsamples 1 to 256, exact); the pipeline's low-resolution level is the 1,024 px one.
#   On the 2-vCPU development VM: 67 s, 2.05 GB (plus ~0.7 GB of temporary files while it runs).
#
# sparse1k (`run.js --overhead`): bench-data/sparse1k40x.tif, the dense slide's geometry (65,536 x 65,536
#   px, 64 x 64 grid, the same low-resolution level) with the dense tissue only in its top-left
#   32,768 x 32,768 px and white elsewhere: 1,024 of 4,096 grid patches are tissue. So the per-slide
#   stages (tissue mask, refinement, polygons) cost what they cost on the dense slide, but hide behind a
#   quarter of its patches: the case where a fixed overhead shows (issue 17).

# one-patch (`run.js --overhead --startup`): bench-data/one-patch40x.tif, 1,024 x 1,024 px of the
#   source at (896, 640): one 10x grid patch, so `h2g segment` on it is all fixed overhead.

# Both sides are multiples of 1024 for dense and 256 for sparse, so every pyramid level down to the
# 10x one is exactly half the one above: the 10x level has a downsample of exactly 4 and a 256-px tile
# at level 2 maps to an integer, tile-aligned level-0 position. Without it (41,538 / 4 is not an
# integer) OpenSlide reports a downsample of 4.0001, every read lands at a fractional offset, and
# cairo/pixman resample each tile, which more than triples the cost of a read and hides everything else
# (see docs/README-bench-read.md). Nothing it writes is committed: bench-data/ is gitignored.
#
# A dense slide of another size (a multiple of 1024) or another tiling phase, for cohorts of distinct
# slides (scripts/bench/batch.js): BENCH_DENSE_SIDE=32768 BENCH_DENSE_SHIFT=97 (the source copies start
# that many pixels further on, so every tile's bytes differ).
#
# Usage: scripts/bench/make-bench-slide.sh [--kind sparse|dense|sparse1k|one-patch] [output.tif]
#        (default output: bench-data/big40x.tif for sparse, bench-data/dense40x.tif for dense)
# Prints the path of the slide on its last line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="${BENCH_SOURCE_SLIDE:-$ROOT/../shared/data/CMU-1-Small-Region.svs}"
KIND=sparse
if [[ "${1:-}" == --kind ]]; then
  KIND="${2:-}"
  shift 2 || { echo "make-bench-slide: --kind needs a value (sparse or dense)" >&2; exit 2; }
elif [[ "${1:-}" == --kind=* ]]; then
  KIND="${1#--kind=}"
  shift
fi
case "$KIND" in
  sparse)
    OUT="${1:-$ROOT/bench-data/big40x.tif}"
    ACROSS=19    # 19 x 2220 = 42,180 px
    DOWN=14      # 14 x 2967 = 41,538 px
    WIDTH=41984  # 164 x 256
    HEIGHT=41472 # 162 x 256
    NEED_GIB=8   # the .v intermediate is uncompressed RGB (~5.3 GB); the TIFF ~0.4 GB
    ;;
  dense)
    OUT="${1:-$ROOT/bench-data/dense40x.tif}"
    CROP=(896 640 704 2304) # x y width height in the source, see above
    WIDTH=${BENCH_DENSE_SIDE:-65536} # 64 x 1024
    HEIGHT=$WIDTH
    (( WIDTH % 1024 == 0 )) || { echo "make-bench-slide: BENCH_DENSE_SIDE must be a multiple of 1024" >&2; exit 2; }
    NEED_GIB=5   # the TIFF is 2.05 GB; libvips keeps the lower levels in temporary files meanwhile
    ;;
  sparse1k)
    OUT="${1:-$ROOT/bench-data/sparse1k40x.tif}"
    CROP=(896 640 704 2304)
    WIDTH=65536
    HEIGHT=65536
    TISSUE=32768 # the tissue square's side
    NEED_GIB=8   # the tissue square's .v intermediate is uncompressed RGB (3.2 GB)
    ;;
  one-patch)
    OUT="${1:-$ROOT/bench-data/one-patch40x.tif}"
    CROP=(896 640 1024 1024)
    NEED_GIB=1
    ;;
  *)
    echo "make-bench-slide: unknown --kind '$KIND' (sparse, dense, sparse1k or one-patch)" >&2
    exit 2
    ;;
esac

if [[ -s "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi

command -v vips >/dev/null || { echo "make-bench-slide: libvips' 'vips' command is missing (apt-get install libvips-tools)" >&2; exit 1; }
[[ -r "$SRC" ]] || { echo "make-bench-slide: source slide not found: $SRC" >&2; exit 1; }

DIR="$(dirname "$OUT")"
mkdir -p "$DIR"

AVAIL_KB="$(df -Pk "$DIR" | awk 'NR==2 {print $4}')"
if (( AVAIL_KB < NEED_GIB * 1024 * 1024 )); then
  echo "make-bench-slide: need ~$NEED_GIB GiB free in $DIR, have $((AVAIL_KB / 1024)) MiB" >&2
  exit 1
fi

TMP_V="$DIR/.$(basename "$OUT").$$.v"
TMP_CROP="$DIR/.$(basename "$OUT").$$.crop.v"
TMP_TIF="$DIR/.$(basename "$OUT").$$.tmp.tif"
trap 'rm -f "$TMP_V" "$TMP_CROP" "$TMP_TIF"' EXIT
# libvips writes the lower pyramid levels to temporary files until the end: keep them on this disk.
export TMPDIR="$DIR"

# Same as `vips tiffsave ... --tile --tile-width 256 --tile-height 256 --pyramid --compression jpeg
# --Q 85 --bigtiff --xres 4000 --yres 4000 --resunit cm`, fused with the last operation (no second
# intermediate). xres/yres are in pixels per millimetre: 4000 px/mm = 0.25 um/px (40x).
TIFF_OPTS="tile,tile-width=256,tile-height=256,pyramid,compression=jpeg,Q=85,bigtiff,xres=4000,yres=4000,resunit=cm"

if [[ "$KIND" == sparse ]]; then
  echo "make-bench-slide: replicating $SRC ${ACROSS}x${DOWN} ..." >&2
  vips replicate "$SRC" "$TMP_V" "$ACROSS" "$DOWN"
  echo "make-bench-slide: cropping to ${WIDTH}x${HEIGHT} and writing the pyramidal TIFF ..." >&2
  vips crop "$TMP_V" "$TMP_TIF[$TIFF_OPTS]" 0 0 "$WIDTH" "$HEIGHT"
  rm -f "$TMP_V"
elif [[ "$KIND" == one-patch ]]; then
  vips crop "$SRC" "$TMP_V" "${CROP[@]}"
  vips extract_band "$TMP_V" "$TMP_TIF[$TIFF_OPTS]" 0 --n 3
  rm -f "$TMP_V"
elif [[ "$KIND" == sparse1k ]]; then
  echo "make-bench-slide: tiling the dense crop into ${TISSUE}x${TISSUE} px on a white ${WIDTH}x${HEIGHT} px slide ..." >&2
  vips crop "$SRC" "$TMP_V" "${CROP[@]}"
  vips extract_band "$TMP_V" "$TMP_CROP" 0 --n 3
  vips embed "$TMP_CROP" "$TMP_V" 0 0 "$TISSUE" "$TISSUE" --extend repeat
  vips embed "$TMP_V" "$TMP_TIF[$TIFF_OPTS]" 0 0 "$WIDTH" "$HEIGHT" --extend white
  rm -f "$TMP_V"
else
  echo "make-bench-slide: tiling ${CROP[2]}x${CROP[3]} px of $SRC at (${CROP[0]}, ${CROP[1]}) into" \
    "${WIDTH}x${HEIGHT} px and writing the pyramidal TIFF (about a minute) ..." >&2
  vips crop "$SRC" "$TMP_V" "${CROP[@]}"
  vips extract_band "$TMP_V" "$TMP_CROP" 0 --n 3 # RGBA from OpenSlide -> RGB, 4.9 MB
  SHIFT=${BENCH_DENSE_SHIFT:-0}
  vips embed "$TMP_CROP" "$TMP_TIF[$TIFF_OPTS]" "$SHIFT" "$SHIFT" "$WIDTH" "$HEIGHT" --extend repeat
fi
mv -f "$TMP_TIF" "$OUT"
echo "$OUT"
