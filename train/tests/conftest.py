"""Shared fixtures: generated slides of known content (libvips), the repository's h2g CLI, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
H2G = os.path.join(ROOT, "bin", "h2g.js")
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))
REAL = os.path.join(SHARED_DATA, "real")
CACHE = os.path.join(ROOT, ".cache", "train-tests")
sys.path.insert(0, SCRIPTS)


def run_h2g(*args, env=None, check=True):
    r = subprocess.run(
        ["node", H2G, *args], capture_output=True, text=True, env={**os.environ, "H2G_LOG_LEVEL": "warn", **(env or {})}
    )
    if check and r.returncode != 0:
        raise AssertionError(f"h2g {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def run_node(script: str, *args) -> str:
    """Runs a snippet of JavaScript with the repository's compiled dist/ (require paths from ROOT)."""
    r = subprocess.run(["node", "-e", script, *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise AssertionError(f"node failed: {r.stderr}")
    return r.stdout


@pytest.fixture(scope="session", autouse=True)
def built_dist():
    """The tests call bin/h2g.js and dist/: compile the TypeScript when src/ is newer (as jest does)."""
    newest = max(os.path.getmtime(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(ROOT, "src")) for f in fs)
    marker = os.path.join(ROOT, "dist", "cli", "main.js")
    if not os.path.exists(marker) or os.path.getmtime(marker) < newest:
        subprocess.run(
            ["node", os.path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
            cwd=ROOT,
            check=False,
        )


def write_tiff(path: str, rgb: np.ndarray, mpp: float) -> str:
    """uint8 (h, w, 3) -> tiled pyramidal TIFF (deflate, so pixels are exact) at `mpp` um/px."""
    h, w = rgb.shape[:2]
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(f"P6 {w} {h} 255\n".encode() + np.ascontiguousarray(rgb, np.uint8).tobytes())
    res = str(1e3 / mpp)  # libvips: pixels per millimetre
    subprocess.run(
        ["vips", "tiffsave", ppm, path, "--tile", "--tile-width", "256", "--tile-height", "256", "--pyramid",
         "--compression", "deflate", "--xres", res, "--yres", res, "--resunit", "cm"],
        check=True,
    )  # fmt: skip
    os.remove(ppm)
    return path


def rect_feature(x0, y0, x1, y1, cls="Tumor"):
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"classification": {"name": cls}},
    }


def write_json(path: str, obj) -> str:
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


TISSUE, TUMOUR, GLASS = (230, 150, 200), (60, 40, 170), (255, 255, 255)


@pytest.fixture(scope="session")
def block_slides(tmp_path_factory):
    """Slides of unequal size and class balance, in two groups, at 1 um/px (the 10x level itself):
    a tissue band (pink) whose left `share` is annotated tumour (painted blue), glass elsewhere.
    Returns the dataset file; also lists the expected class areas."""
    d = tmp_path_factory.mktemp("blocks")
    specs = [  # id, group, width, height, tumour share of tissue
        ("A", "g1", 1024, 768, 0.5),
        ("B", "g1", 2048, 1024, 0.1),
        ("C", "g1", 768, 768, 0.0),  # no tumour at all
        ("D", "g2", 1536, 1280, 0.3),
    ]
    slides = []
    for sid, group, w, h, share in specs:
        img = np.full((h, w, 3), GLASS, np.uint8)
        y0, y1 = h // 4, 3 * h // 4
        img[y0:y1, :] = TISSUE
        xt = int(w * share)
        img[y0:y1, :xt] = TUMOUR
        write_tiff(str(d / f"{sid}.tif"), img, 1.0)
        feats = [rect_feature(0, y0, xt, y1)] if xt else []
        feats.append(rect_feature(0, 0, 40, 40, "Stroma"))  # another class: ignored
        write_json(str(d / f"{sid}.geojson"), {"type": "FeatureCollection", "features": feats})
        slides.append(
            {"id": sid, "slide": f"{sid}.tif", "annotations": f"{sid}.geojson", "group": group, "split": "train"}
        )
    return write_json(str(d / "dataset.json"), {"schemaVersion": 1, "name": "blocks", "slides": slides})
