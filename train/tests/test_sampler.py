"""The hierarchical sampler on generated slides of unequal size and class balance: group, slide and
class proportions over thousands of draws, positions inside the drawn class, real reads through
DataLoader workers, reproducibility, and memory that stays flat."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
import torch

from conftest import TISSUE, TUMOUR
from h2g_train.dataset import load_dataset
from h2g_train.sampler import NON_TUMOUR, HierarchicalSampler, PatchDataset, index_slide, sample_rng

N = 4000


@pytest.fixture(scope="module")
def sampler(block_slides, tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("cache"))
    ds = load_dataset(block_slides)
    return HierarchicalSampler([index_slide(e, cache) for e in ds.slides])


def within(observed: int, n: int, p: float, sigmas=4.5) -> bool:
    return abs(observed / n - p) <= sigmas * math.sqrt(p * (1 - p) / n)


def test_class_cells_follow_the_annotations_and_the_tissue(sampler):
    a = next(s for s in sampler.slides if s.id == "A")  # 1024 x 768 um: 32 x 24 cells of 32 um
    assert (a.grid_w, a.grid_h) == (32, 24)
    # Tissue rows 192..575 um = cells 6..17 (12 rows); tumour is the left half, 16 columns.
    assert a.counts == (12 * 16, 12 * 16)
    c = next(s for s in sampler.slides if s.id == "C")
    assert c.counts[1] == 0 and c.counts[0] == 24 * 12


def test_proportions_of_groups_slides_and_classes(sampler):
    draws = [sampler.draw(sample_rng(7, 0, i)) for i in range(N)]
    ids = [sampler.slides[d.slide].id for d in draws]
    labels = np.array([d.label for d in draws])
    # Group uniform (g1: A, B, C; g2: D), class 1/2, then a slide holding the class uniformly:
    # g1 tumour -> A or B, g1 non-tumour -> A, B or C.
    expected = {"A": 0.5 * (0.25 + 0.5 / 3), "B": 0.5 * (0.25 + 0.5 / 3), "C": 0.5 * 0.5 / 3, "D": 0.5}
    for sid, p in expected.items():
        assert within(ids.count(sid), N, p), (sid, ids.count(sid) / N, p)
    assert within(int(labels.sum()), N, 0.5)
    assert all(d.label == NON_TUMOUR for d, sid in zip(draws, ids) if sid == "C")
    # Within a slide and class, each group's share of classes is still 1/2 (the paper's scheme).
    d_labels = labels[[sid == "D" for sid in ids]]
    assert within(int(d_labels.sum()), len(d_labels), 0.5)


def test_positions_are_uniform_inside_the_drawn_class(sampler):
    b = next(i for i, s in enumerate(sampler.slides) if s.id == "B")  # 2048 x 1024, tumour x < 204.8
    xs = {0: [], 1: []}
    for i in range(N):
        d = sampler.draw(sample_rng(11, 0, i))
        if d.slide == b:
            xs[d.label].append(d.x)
            assert 256 - 32 <= d.y <= 768 + 32  # inside the tissue band, up to one cell
    t, n = np.array(xs[1]), np.array(xs[0])
    # 32 um cells: tumour where the cell centre is left of 204.8 um, columns 0..5, so x in [0, 192).
    assert t.min() >= 0 and t.max() < 192 and abs(t.mean() - 96) < 12
    assert n.min() >= 192 and n.max() < 2048 and abs(n.mean() - (192 + 2048) / 2) < 60


def test_patches_read_through_workers_show_their_class(sampler):
    ds = PatchDataset(sampler, 96, seed=5, stream=0)
    loader = torch.utils.data.DataLoader(ds, batch_size=16, num_workers=2)
    agree = total = 0
    for x, y, _ in loader:
        assert x.shape[1:] == (3, 256, 256) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
        centre = (x[:, :, 124:132, 124:132] * 255).mean(dim=(2, 3))  # (B, 3) mean RGB at the centre
        is_tumour = (torch.tensor(TUMOUR).float() - centre).norm(dim=1) < (torch.tensor(TISSUE).float() - centre).norm(
            dim=1
        )
        agree += int((is_tumour.long() == y).sum())
        total += len(y)
    assert total == 96 and agree >= 0.95 * total  # the rest: centres within a cell of a boundary


def test_the_same_seed_gives_the_same_batches_whatever_the_workers(sampler):
    def batches(workers):
        ds = PatchDataset(sampler, 24, seed=9, stream=3)
        return [b for b in torch.utils.data.DataLoader(ds, batch_size=8, num_workers=workers)]

    a, b = batches(0), batches(2)
    for (xa, ya, sa), (xb, yb, sb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb) and torch.equal(sa, sb)
    other = PatchDataset(sampler, 24, seed=10, stream=3)
    assert not torch.equal(other[0][0], a[0][0][0])


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def test_memory_stays_flat_with_draws_and_with_the_number_of_slides(sampler):
    # 400 slides (the 4 files under 100 ids each) against 4: the sampler keeps a few hundred bytes per
    # slide and the readers at most max_open slides open, so reading costs the same memory.
    many = HierarchicalSampler([dataclasses.replace(s, id=f"{s.id}{k}") for k in range(100) for s in sampler.slides])
    for s in (sampler, many):
        ds = PatchDataset(s, 10**6, seed=1, stream=0, max_open=4)
        for i in range(60):  # warm up: allocator pools, OpenSlide caches
            ds[i]
        before = rss_mb()
        for i in range(60, 300):
            ds[i]
        grew = rss_mb() - before
        assert grew < 40, f"RSS grew by {grew:.1f} MiB over 240 reads with {len(s.slides)} slides"
        assert len(ds._open) <= 4
    assert len(many.slides) == 400


def test_cache_files_are_reused_and_rebuilt_when_annotations_change(block_slides, tmp_path):
    ds = load_dataset(block_slides)
    e = ds.slides[0]
    first = index_slide(e, str(tmp_path))
    mtime = os.path.getmtime(first.files[1])
    assert index_slide(e, str(tmp_path)).files == first.files and os.path.getmtime(first.files[1]) == mtime
    ann = tmp_path / "other.geojson"
    ann.write_text('{"type": "FeatureCollection", "features": []}')
    empty = index_slide(dataclasses.replace(e, annotations=str(ann)), str(tmp_path))
    assert empty.files != first.files and empty.counts[1] == 0 and empty.counts[0] == sum(first.counts)
