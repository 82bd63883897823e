"""The dataset file: the schema of README "Training" (shared with h2g evaluate and QuPath's export),
unknown keys refused, paths checked, seeded splits, and a digest that follows the ground truth."""

import json
import os

import pytest

from h2g_train.dataset import DatasetError, assign_splits, load_dataset


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "slides").mkdir()
    for i in range(10):
        (tmp_path / "slides" / f"S{i}.svs").write_bytes(b"x" * (i + 1))
        (tmp_path / f"S{i}.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    return tmp_path


def write(folder, obj, name="dataset.json"):
    path = folder / name
    path.write_text(json.dumps(obj))
    return str(path)


def slide(i, **extra):
    return {"id": f"S{i}", "slide": f"slides/S{i}.svs", "annotations": f"S{i}.geojson", **extra}


def dataset(*slides, **extra):
    return {"schemaVersion": 1, "name": "cohort", "slides": list(slides), **extra}


def test_a_valid_file_with_every_field(folder):
    ds = load_dataset(
        write(folder, dataset(slide(0, mpp=0.2527, group="grade-2", split="test"), slide(1), createdBy="qupath"))
    )
    s = ds.slides[0]
    assert (s.id, s.mpp, s.group, s.split) == ("S0", 0.2527, "grade-2", "test")
    assert s.slide == str(folder / "slides" / "S0.svs") and s.annotations == str(folder / "S0.geojson")
    assert ds.slides[1].group == "" and ds.slides[1].split is None and ds.slides[1].mpp is None
    assert ds.name == "cohort" and ds.created_by == "qupath" and ds.groups == ["", "grade-2"]


@pytest.mark.parametrize(
    "obj, message",
    [
        (dataset(slide(0), extra=1), r"unknown key\(s\) extra"),
        (dataset(slide(0, grade=2)), r"slides\[0\]: unknown key\(s\) grade"),
        (dataset(slide(0), schemaVersion=2), "schemaVersion must be 1"),
        ({"schemaVersion": 1, "slides": [slide(0)]}, "name must be a non-empty string"),
        (dataset(), "slides must be a non-empty list"),
        (dataset({"id": "S0", "slide": "slides/S0.svs"}), "missing required key 'annotations'"),
        (dataset(slide(0), slide(0)), "slide id 'S0' appears twice"),
        (dataset(slide(0, id="a b")), "may only hold letters"),
        (dataset(slide(0, mpp=True)), "mpp must be a pixel size"),
        (dataset(slide(0, mpp=-1)), "mpp must be a pixel size"),
        (dataset(slide(0, split="validation")), "split must be one of train, val, test"),
        (dataset(slide(0, group="")), "group must be a non-empty string"),
        (dataset(slide(0, slide="slides/none.svs")), r"\.slide: no such file: .*none\.svs"),
        (dataset(slide(0, annotations="slides")), r"\.annotations: not a regular file"),
    ],
)
def test_bad_files_are_refused_with_a_message_that_says_where(folder, obj, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(write(folder, obj))


def test_not_json_and_no_file(folder):
    bad = folder / "bad.json"
    bad.write_text("{")
    with pytest.raises(DatasetError, match="is not valid JSON"):
        load_dataset(str(bad))
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(str(folder / "none.json"))


def test_seeded_splits_keep_given_ones_and_balance_each_group(folder):
    slides = [slide(i, group="g1" if i < 6 else "g2") for i in range(9)] + [slide(9, split="test")]
    ds = load_dataset(write(folder, dataset(*slides)))
    a, b = assign_splits(ds, seed=1), assign_splits(ds, seed=1)
    assert a == b and a["S9"] == "test"
    for group in ("g1", "g2"):
        got = [a[s.id] for s in ds.slides if s.group == group and s.id != "S9"]
        assert got.count("val") >= 1 and got.count("train") >= 1
    assert assign_splits(ds, seed=2) != a  # another seed, another draw
    assert sum(v == "train" for v in a.values()) == 6


def test_the_digest_follows_annotations_and_slides(folder):
    path = write(folder, dataset(slide(0), slide(1)))
    d0 = load_dataset(path).digest()
    assert load_dataset(path).digest() == d0
    (folder / "S1.geojson").write_text('{"type": "FeatureCollection", "features": [1]}')
    d1 = load_dataset(path).digest()
    (folder / "slides" / "S0.svs").write_bytes(b"longer slide")
    assert len({d0, d1, load_dataset(path).digest()}) == 3
    assert os.path.exists(path)
