"""Tumour annotations: QuPath GeoJSON in, polygons (lists of rings in level-0 pixels) and rasterised
masks out. The rasteriser samples pixel centres with the even-odd rule per polygon (holes are inner
rings) and takes the union over polygons: the same rule as `h2g evaluate` (src/eval/raster.ts), so the
trainer's targets and the evaluation agree pixel for pixel. Written here because PIL's polygon fill
has no holes and no documented sampling rule, and shapely/rasterio are not Debian-installed here."""

from __future__ import annotations

import json

import numpy as np

TUMOUR_CLASS = "Tumor"

Polygon = list  # list of rings, each an (n, 2) float64 array of level-0 (x, y)


class AnnotationError(ValueError):
    pass


def _features(doc, path: str) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise AnnotationError(f"{path}: a FeatureCollection needs a 'features' list")
        return feats
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc]
    raise AnnotationError(f"{path}: expected a GeoJSON FeatureCollection, a Feature or a list of Features")


def _class_name(feature: dict) -> str | None:
    props = feature.get("properties") or {}
    cls = props.get("classification")
    if isinstance(cls, dict):
        return cls.get("name")
    return cls if isinstance(cls, str) else None


def _rings(coords, path: str) -> Polygon:
    rings = []
    for ring in coords:
        arr = np.asarray(ring, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] < 2 or not np.isfinite(arr).all():
            raise AnnotationError(f"{path}: a polygon ring is not a list of finite [x, y] positions")
        if len(arr) >= 3:
            rings.append(arr[:, :2])
    return rings


def _polygons(geometry, path: str) -> list[Polygon]:
    if not isinstance(geometry, dict):
        return []
    kind = geometry.get("type")
    try:
        if kind == "Polygon":
            return [_rings(geometry["coordinates"], path)]
        if kind == "MultiPolygon":
            return [_rings(p, path) for p in geometry["coordinates"]]
        if kind == "GeometryCollection":
            return [p for g in geometry.get("geometries", []) for p in _polygons(g, path)]
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, AnnotationError):
            raise
        raise AnnotationError(f"{path}: malformed {kind} geometry ({err})") from None
    return []  # points and lines carry no area


def parse_tumour_polygons(doc, path="<geojson>", class_name=TUMOUR_CLASS) -> list[Polygon]:
    out = []
    for feature in _features(doc, path):
        if isinstance(feature, dict) and _class_name(feature) == class_name:
            out.extend(p for p in _polygons(feature.get("geometry"), path) if p)
    return out


def read_tumour_polygons(path: str, class_name=TUMOUR_CLASS) -> list[Polygon]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path} is not valid JSON: {err}") from None
    return parse_tumour_polygons(doc, path, class_name)


def rasterise(polygons: list[Polygon], width: int, height: int, sx: float, sy: float) -> np.ndarray:
    """Boolean (height, width) mask; pixel (i, j) covers level-0 [i*sx, (i+1)*sx) x [j*sy, (j+1)*sy) and
    is inside when its centre is."""
    cover = np.zeros((height, width + 1), dtype=np.int32)
    for polygon in polygons:
        rows, xs = [], []
        for ring in polygon:
            a = ring
            b = np.roll(ring, -1, axis=0)
            ya, yb = a[:, 1] / sy - 0.5, b[:, 1] / sy - 0.5  # in row-centre units
            lo = np.ceil(np.minimum(ya, yb)).astype(np.int64)
            hi = np.ceil(np.maximum(ya, yb)).astype(np.int64)  # rows lo..hi-1 have centres in [min, max)
            lo, hi = np.clip(lo, 0, height), np.clip(hi, 0, height)
            counts = hi - lo
            keep = counts > 0
            if not keep.any():
                continue
            e = np.repeat(np.nonzero(keep)[0], counts[keep])
            r = np.concatenate([np.arange(l, h) for l, h in zip(lo[keep], hi[keep])])
            t = (r - ya[e]) / (yb[e] - ya[e])
            rows.append(r)
            xs.append((a[e, 0] + t * (b[e, 0] - a[e, 0])) / sx - 0.5)  # in column-centre units
        if not rows:
            continue
        r, x = np.concatenate(rows), np.concatenate(xs)
        order = np.lexsort((x, r))
        r, x = r[order], x[order]
        # Crossings pair up within a row (each ring is closed): columns with centres in [x0, x1) are in.
        r0, x0, x1 = r[0::2], x[0::2], x[1::2]
        c0 = np.clip(np.ceil(x0), 0, width).astype(np.int64)
        c1 = np.clip(np.ceil(x1), 0, width).astype(np.int64)
        np.add.at(cover, (r0, c0), 1)
        np.add.at(cover, (r0, c1), -1)
    return np.cumsum(cover, axis=1)[:, :width] > 0
