"""GeoJSON reading and the centre-sampling rasteriser, by hand and against h2g evaluate's own
(src/eval/raster.ts), which must give the same pixels."""

import json

import numpy as np
import pytest

from conftest import run_node
from h2g_train.geometry import AnnotationError, parse_tumour_polygons, rasterise, read_tumour_polygons


def sq(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def test_squares_holes_unions_and_triangles_by_hand():
    assert rasterise([[sq(2, 3, 12, 8)]], 20, 20, 1, 1).sum() == 50
    m = rasterise([[sq(0, 0, 10, 10), sq(3, 3, 7, 7)]], 20, 20, 1, 1)
    assert m.sum() == 84 and not m[5, 5] and m[1, 1]
    assert rasterise([[sq(0, 0, 10, 10)], [sq(5, 5, 15, 15)]], 20, 20, 1, 1).sum() == 175
    tri = np.array([[0, 0], [10, 0], [0, 10]], float)
    assert rasterise([[tri]], 20, 20, 1, 1).sum() == 45  # centres with i + j + 1 < 10
    assert rasterise([[sq(0, 0, 12, 12)]], 20, 20, 4, 4).sum() == 9
    assert rasterise([[sq(-5, -5, 3, 3)], [sq(18, 18, 40, 40)]], 20, 20, 1, 1).sum() == 13


def test_parsing_keeps_tumour_of_every_container():
    poly = {"type": "Polygon", "coordinates": [sq(0, 0, 4, 4).tolist()]}

    def feat(geometry, name="Tumor"):
        return {"type": "Feature", "geometry": geometry, "properties": {"classification": {"name": name}}}

    multi = {"type": "MultiPolygon", "coordinates": [[sq(0, 0, 1, 1).tolist()], [sq(2, 2, 3, 3).tolist()]]}
    fc = {
        "type": "FeatureCollection",
        "features": [feat(poly), feat(poly, "Stroma"), feat(multi), feat({"type": "Point", "coordinates": [1, 1]})],
    }
    assert len(parse_tumour_polygons(fc)) == 3
    assert len(parse_tumour_polygons([feat(poly)])) == 1 and len(parse_tumour_polygons(feat(poly))) == 1
    with pytest.raises(AnnotationError, match="expected a GeoJSON FeatureCollection"):
        parse_tumour_polygons({"type": "Polygon"})
    with pytest.raises(AnnotationError, match="malformed Polygon geometry"):
        parse_tumour_polygons(feat({"type": "Polygon", "coordinates": [[[0, 0], ["a", 1], [1, 1]]]}))


def test_a_broken_file_names_itself(tmp_path):
    f = tmp_path / "bad.geojson"
    f.write_text("{")
    with pytest.raises(AnnotationError, match="bad.geojson is not valid JSON"):
        read_tumour_polygons(str(f))


def test_the_same_pixels_as_h2g_evaluate(tmp_path):
    rng = np.random.default_rng(4)
    polygons = []
    for _ in range(6):  # random star polygons, some with holes, some overlapping
        c = rng.uniform(100, 900, 2)
        t = np.sort(rng.uniform(0, 2 * np.pi, 9))
        outer = c + rng.uniform(60, 200, (9, 1)) * np.stack([np.cos(t), np.sin(t)], 1)
        rings = [outer]
        if rng.random() < 0.5:
            rings.append(c + 25 * np.stack([np.cos(t), np.sin(t)], 1))
        polygons.append(rings)
    f = tmp_path / "p.json"
    f.write_text(json.dumps([[r.tolist() for r in p] for p in polygons]))
    js = (
        "const {rasterise} = require('./dist/eval/raster.js');"
        "const p = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));"
        "const m = rasterise(p, {width: 300, height: 200, sx: 1000 / 300, sy: 1000 / 200});"
        "process.stdout.write(Buffer.from(m).toString('base64'));"
    )
    import base64

    ts = np.frombuffer(base64.b64decode(run_node(js, str(f))), np.uint8).reshape(200, 300)
    py = rasterise(polygons, 300, 200, 1000 / 300, 1000 / 200)
    assert py.sum() > 10000 and np.array_equal(ts.astype(bool), py)
