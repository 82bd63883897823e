"""The paper's hierarchically balanced patch sampler. One draw: a group (grade) uniformly, a class
(tumour / non-tumour) with probability 1/2, a slide uniformly among the group's slides that hold that
class, a class-mask cell of that slide uniformly, a uniform position inside the cell, and the 256 px
patch at 10x centred there, read from the slide on the fly.

Drawing the class before the slide gives the paper's distribution whenever every slide holds both
classes (they are independent there) and keeps classes at exactly 1/2 when some do not (a slide with
no tumour annotation gets only non-tumour draws instead of skewing the balance). A group none of whose
slides holds the drawn class gives the other class.

Memory does not grow with the number of slides: the class masks live in memory-mapped cache files
(one int32 cell index per class cell), at most 32 of them mapped at a time, and each reader keeps at
most `max_open` slides open. Randomness comes from (seed, epoch, sample index) alone, so every DataLoader
worker draws its own samples and a run is the same whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image

from .config import TrainConfig
from .dataset import SlideEntry
from .geometry import rasterise, read_tumour_polygons
from .rules import patch_side, plan_slide, read_lowres, read_patch
from .slides import Slide, tissue_mask

NON_TUMOUR, TUMOUR = 0, 1
CACHE_VERSION = 2
DEFAULT_REFERENCE = TrainConfig.reference


@dataclass(frozen=True)
class SlideClasses:
    """What a sampler keeps per slide: paths, geometry and class sizes (a few hundred bytes)."""

    id: str
    slide: str
    mpp: float
    group: str
    width: int  # level 0
    height: int
    grid_w: int  # class-mask grid
    grid_h: int
    files: tuple[str, str]  # .npy of cell indices: non-tumour, tumour
    counts: tuple[int, int]
    mpp_given: bool = False  # mpp is the dataset's (which overrides the slide's objective power too)


def class_masks(entry: SlideEntry, mask_um: float, lowres_side: int, reference: str = DEFAULT_REFERENCE):
    """(tissue & not tumour, tissue & tumour) on a grid of about mask_um um per cell, plus the grid; the
    tissue is the pipeline's tissue mask under `reference`'s rules."""
    slide = Slide(entry.slide, entry.mpp)
    try:
        width, height = slide.size
        # The 10x plan of the pipeline's default models; the low-resolution level does not depend on it.
        lowres = read_lowres(slide, plan_slide(slide, reference, 1.0, 256), lowres_side)
        tissue_lr = tissue_mask(lowres).astype(np.float32)
        mpp = slide.mpp
    finally:
        slide.close()
    gw = max(1, round(width * mpp / mask_um))
    gh = max(1, round(height * mpp / mask_um))
    # Area share of tissue in each cell (box filter), tissue when at least half.
    tissue = np.asarray(Image.fromarray(tissue_lr, mode="F").resize((gw, gh), Image.BOX)) >= 0.5
    tumour = rasterise(read_tumour_polygons(entry.annotations), gw, gh, width / gw, height / gh)
    return tissue & ~tumour, tissue & tumour, (width, height, gw, gh, mpp)


def _cache_key(entry: SlideEntry, mask_um: float, lowres_side: int, reference: str) -> str:
    st = os.stat(entry.slide)
    with open(entry.annotations, "rb") as f:
        ann = hashlib.sha256(f.read()).hexdigest()
    key = [
        CACHE_VERSION,
        os.path.abspath(entry.slide),
        st.st_size,
        st.st_mtime_ns,
        ann,
        entry.mpp,
        mask_um,
        lowres_side,
        reference,
    ]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:20]


def index_slide(
    entry: SlideEntry, cache_dir: str, mask_um=32.0, lowres_side=1024, reference=DEFAULT_REFERENCE
) -> SlideClasses:
    """Builds (or reuses) the slide's class-cell files in cache_dir."""
    os.makedirs(cache_dir, exist_ok=True)
    key = _cache_key(entry, mask_um, lowres_side, reference)
    meta_file = os.path.join(cache_dir, f"{entry.id}-{key}.json")
    if os.path.exists(meta_file):
        with open(meta_file) as f:
            meta = json.load(f)
        return SlideClasses(**{**meta, "files": tuple(meta["files"]), "counts": tuple(meta["counts"])})
    normal, tumour, (width, height, gw, gh, mpp) = class_masks(entry, mask_um, lowres_side, reference)
    files = []
    for name, mask in (("normal", normal), ("tumour", tumour)):
        path = os.path.join(cache_dir, f"{entry.id}-{key}.{name}.npy")
        tmp = path + ".partial.npy"
        np.save(tmp, np.flatnonzero(mask.ravel()).astype(np.int32))
        os.replace(tmp, path)
        files.append(path)
    info = SlideClasses(
        id=entry.id, slide=entry.slide, mpp=mpp, group=entry.group, width=width, height=height, grid_w=gw, grid_h=gh,
        files=(files[0], files[1]), counts=(int(normal.sum()), int(tumour.sum())), mpp_given=entry.mpp is not None,
    )  # fmt: skip
    with open(meta_file + ".partial", "w") as f:
        json.dump(asdict(info), f)
    os.replace(meta_file + ".partial", meta_file)
    return info


@dataclass(frozen=True)
class Draw:
    slide: int  # index into the sampler's slides
    label: int
    x: float  # level-0 centre of the patch
    y: float


class HierarchicalSampler:
    MAX_MAPPED = 32  # class-cell files kept memory-mapped (each process); file-backed, reclaimable

    def __init__(self, slides: list[SlideClasses]):
        self.slides = [s for s in slides if sum(s.counts) > 0]
        if not self.slides:
            raise ValueError("no slide has any tissue to sample from")
        self.groups = sorted({s.group for s in self.slides})
        self._mapped: OrderedDict[str, np.ndarray] = OrderedDict()
        # by_class[g][c]: indices of the group's slides holding class c
        self.by_class = [
            [[i for i, s in enumerate(self.slides) if s.group == g and s.counts[c] > 0] for c in (NON_TUMOUR, TUMOUR)]
            for g in self.groups
        ]

    def draw(self, rng: np.random.Generator) -> Draw:
        g = int(rng.integers(len(self.groups)))
        label = int(rng.integers(2))
        if not self.by_class[g][label]:
            label = 1 - label
        candidates = self.by_class[g][label]
        index = candidates[int(rng.integers(len(candidates)))]
        s = self.slides[index]
        cells = self._cells(s.files[label])
        cell = int(cells[int(rng.integers(len(cells)))])
        cx = (cell % s.grid_w + rng.random()) * s.width / s.grid_w
        cy = (cell // s.grid_w + rng.random()) * s.height / s.grid_h
        return Draw(index, label, cx, cy)

    def _cells(self, path: str) -> np.ndarray:
        cells = self._mapped.pop(path, None)
        if cells is None:
            cells = np.load(path, mmap_mode="r")
            while len(self._mapped) >= self.MAX_MAPPED:
                self._mapped.popitem(last=False)
        self._mapped[path] = cells
        return cells

    def __getstate__(self):  # worker processes map their own
        return {**self.__dict__, "_mapped": OrderedDict()}


def sample_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


class PatchDataset(torch.utils.data.Dataset):
    """`length` patches of one (seed, stream): item i is draw i, read under `reference`'s rules and
    augmented with its own RNG. Yields (float32 CHW RGB in 0..1, label, slide index)."""

    def __init__(
        self, sampler, length, seed, stream, patch_size=256, patch_mpp=1.0, augment=None, max_open=4,
        reference=DEFAULT_REFERENCE,
    ):  # fmt: skip
        self.sampler, self.length, self.seed, self.stream = sampler, length, seed, stream
        self.patch_size, self.patch_mpp, self.augment, self.max_open = patch_size, patch_mpp, augment, max_open
        self.reference = reference
        self._open: OrderedDict[int, tuple] = OrderedDict()  # slide index -> (Slide, SlidePlan)

    def __len__(self):
        return self.length

    def _slide(self, index: int):
        opened = self._open.pop(index, None)
        if opened is None:
            s = self.sampler.slides[index]
            # The sampler's pixel size was the dataset's or the slide's: only the dataset's is "given".
            slide = Slide(s.slide, s.mpp if s.mpp_given else None)
            opened = (slide, plan_slide(slide, self.reference, self.patch_mpp, self.patch_size))
            while len(self._open) >= self.max_open:
                self._open.popitem(last=False)[1][0].close()
        self._open[index] = opened
        return opened

    def read(self, draw: Draw) -> np.ndarray:
        slide, plan = self._slide(draw.slide)
        side = patch_side(slide, plan, self.patch_size, self.patch_mpp)
        return read_patch(slide, plan, draw.x - side / 2, draw.y - side / 2, self.patch_size, self.patch_mpp)

    def __getitem__(self, i):
        rng = sample_rng(self.seed, self.stream, i)
        draw = self.sampler.draw(rng)
        patch = self.read(draw)
        if self.augment is not None:  # colour augmentation works on 8-bit pixels
            patch = self.augment(np.rint(patch).astype(np.uint8), rng)
        x = torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1))).float().div_(255.0)
        return x, draw.label, draw.slide

    def __getstate__(self):  # workers open their own slides
        state = dict(self.__dict__)
        state["_open"] = OrderedDict()
        return state
