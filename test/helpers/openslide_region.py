"""Independent ground truth for tests: a region as OpenSlide's Python binding reads it.

Usage: openslide_region.py SLIDE X Y LEVEL W H  -> raw RGBA bytes (un-premultiplied) on stdout.
Runs with Debian's python3 and python3-openslide (installed by .ci/run).
"""
import sys

import openslide

slide, x, y, level, w, h = sys.argv[1], *map(int, sys.argv[2:7])
with openslide.OpenSlide(slide) as s:
    sys.stdout.buffer.write(s.read_region((x, y), level, (w, h)).tobytes())
