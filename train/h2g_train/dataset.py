"""The training dataset file (schema version 1; README "Training", the shared contract with QuPath's
"Export training data" and `h2g evaluate --dataset`). Unknown keys are refused so typos surface, and
every path is checked when the file is read, so a run never fails an hour in on a missing slide."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass

import numpy as np

SCHEMA_VERSION = 1
SPLITS = ("train", "val", "test")
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")
TOP_KEYS = {"schemaVersion", "name", "createdBy", "slides"}
SLIDE_KEYS = {"id", "slide", "annotations", "mpp", "group", "split"}
DEFAULT_GROUP = ""


class DatasetError(ValueError):
    """A dataset file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class SlideEntry:
    id: str
    slide: str  # absolute path
    annotations: str  # absolute path
    mpp: float | None
    group: str  # DEFAULT_GROUP when the file gives none
    split: str | None


@dataclass(frozen=True)
class Dataset:
    name: str
    path: str
    created_by: str | None
    slides: tuple[SlideEntry, ...]

    @property
    def groups(self) -> list[str]:
        return sorted({s.group for s in self.slides})

    def digest(self) -> str:
        """SHA-256 over the dataset file, each annotation file and each slide's size: what changes
        when the ground truth or the slide list changes (hashing gigapixel slides would take minutes)."""
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            h.update(f.read())
        for s in self.slides:
            with open(s.annotations, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
            h.update(f"{s.id}:{os.path.getsize(s.slide)}".encode())
        return h.hexdigest()


def _string(value, where: str, allow_empty=False) -> str:
    if not isinstance(value, str) or (not allow_empty and value.strip() == ""):
        raise DatasetError(f"{where} must be a non-empty string, got {json.dumps(value)}")
    return value


def _unknown(obj: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise DatasetError(f"{where}: unknown key(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})")


def _existing_file(base: str, value: str, where: str) -> str:
    full = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    if not os.path.exists(full):
        raise DatasetError(f"{where}: no such file: {full}")
    if not os.path.isfile(full):
        raise DatasetError(f"{where}: not a regular file: {full}")
    return full


def _slide(raw, base: str, where: str) -> SlideEntry:
    if not isinstance(raw, dict):
        raise DatasetError(f"{where} must be an object")
    _unknown(raw, SLIDE_KEYS, where)
    for key in ("id", "slide", "annotations"):
        if key not in raw:
            raise DatasetError(f"{where}: missing required key '{key}'")
    sid = _string(raw["id"], f"{where}.id")
    if not ID_PATTERN.match(sid):
        raise DatasetError(f"{where}.id '{sid}' may only hold letters, digits, '.', '_' and '-'")
    where = f"{where} ({sid})"
    mpp = raw.get("mpp")
    if mpp is not None and (isinstance(mpp, bool) or not isinstance(mpp, (int, float)) or not 0 < mpp <= 100):
        raise DatasetError(f"{where}.mpp must be a pixel size in um/px between 0 and 100, got {json.dumps(mpp)}")
    split = raw.get("split")
    if split is not None and split not in SPLITS:
        raise DatasetError(f"{where}.split must be one of {', '.join(SPLITS)}, got {json.dumps(split)}")
    group = _string(raw["group"], f"{where}.group") if "group" in raw else DEFAULT_GROUP
    return SlideEntry(
        id=sid,
        slide=_existing_file(base, _string(raw["slide"], f"{where}.slide"), f"{where}.slide"),
        annotations=_existing_file(base, _string(raw["annotations"], f"{where}.annotations"), f"{where}.annotations"),
        mpp=float(mpp) if mpp is not None else None,
        group=group,
        split=split,
    )


def load_dataset(path: str) -> Dataset:
    path = os.path.abspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise DatasetError(f"no such dataset file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: the dataset must be a JSON object")
    _unknown(raw, TOP_KEYS, path)
    if raw.get("schemaVersion") != SCHEMA_VERSION:
        raise DatasetError(
            f"{path}: schemaVersion must be {SCHEMA_VERSION}, got {json.dumps(raw.get('schemaVersion'))}"
        )
    name = _string(raw.get("name"), f"{path}: name")
    created_by = _string(raw["createdBy"], f"{path}: createdBy") if "createdBy" in raw else None
    slides_raw = raw.get("slides")
    if not isinstance(slides_raw, list) or not slides_raw:
        raise DatasetError(f"{path}: slides must be a non-empty list")
    base = os.path.dirname(path)
    slides = tuple(_slide(s, base, f"{path}: slides[{i}]") for i, s in enumerate(slides_raw))
    seen: set[str] = set()
    for s in slides:
        if s.id in seen:
            raise DatasetError(f"{path}: slide id '{s.id}' appears twice")
        seen.add(s.id)
    return Dataset(name=name, path=path, created_by=created_by, slides=slides)


def assign_splits(dataset: Dataset, seed: int, val_share=0.1, test_share=0.1) -> dict[str, str]:
    """The split of every slide: its own when the file gives one, else a seeded draw within its group
    (so each grade is represented in each split as far as its size allows). A group of n unassigned
    slides gives round(n * share) to val and test each, at least one to val when n >= 3 (early stopping
    needs validation data), and the rest (at least one) to train."""
    out = {s.id: s.split for s in dataset.slides if s.split}
    for group in dataset.groups:
        free = sorted(s.id for s in dataset.slides if s.group == group and not s.split)
        rng = np.random.default_rng([seed, len(free), *group.encode()])
        order = [free[i] for i in rng.permutation(len(free))]
        n = len(order)
        n_val = max(1 if n >= 3 else 0, round(n * val_share))
        n_test = min(round(n * test_share), max(0, n - n_val - 1))
        for i, sid in enumerate(order):
            out[sid] = "val" if i < n_val else "test" if i < n_val + n_test else "train"
    return out
