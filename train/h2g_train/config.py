"""Every training parameter, its default and its range, in one table: the CLI's options, the run's
config.json and the manifest's training record all come from it. Defaults are the paper's (H2GNET.md
"Training") where it gives one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

REFERENCES = ("fast", "h2g")
# The rule set of a run recorded before `reference` existed: the trainer then followed only the h2g rules.
LEGACY_REFERENCE = "h2g"


def param(default, help, lo=None, hi=None, stage="both", choices=None):
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi, "stage": stage, "choices": choices})


@dataclass
class TrainConfig:
    reference: str = param(
        "fast",
        "rule set the networks are trained under, as `h2g segment --reference` (fast = FastPathology's, the"
        " pipeline's default; h2g = this project's)",
        choices=REFERENCES,
    )
    seed: int = param(1234, "seed of every random draw (sampler, splits, weights, augmentation)", 0, 2**31 - 1)
    patch_size: int = param(256, "patch side in pixels (the published contract: 256)", 32, 1024, "patch")
    patch_mpp: float = param(1.0, "patch pixel size in um/px (FAST's 10x = 1.0)", 0.05, 100, "patch")
    refinement_size: int = param(1024, "refinement input side (the published contract: 1024)", 256, 4096, "refine")
    mask_um: float = param(32.0, "class-mask cell side in um for the sampler", 2, 1000, "patch")
    width: float = param(1.0, "patch network width (MobileNetV2 alpha; 1.0 = published)", 0.1, 2.0, "patch")
    refine_width: float = param(1.0, "refinement U-Net width (1.0 = published)", 0.05, 2.0, "refine")
    batch_size: int = param(64, "patch batch size", 2, 4096, "patch")
    lr: float = param(1e-4, "patch learning rate (Adam)", 1e-7, 1.0, "patch")
    steps_per_epoch: int = param(500, "patch training steps per epoch", 1, 10**7, "patch")
    epochs: int = param(200, "most patch epochs", 1, 10**6, "patch")
    patience: int = param(20, "patch epochs without a better validation loss before stopping", 1, 10**6, "patch")
    val_patches: int = param(1024, "validation patches drawn (a fixed seeded set)", 0, 10**7, "patch")
    clusters: int = param(10, "k-means clusters of the loss", 1, 1000, "patch")
    cluster_sample: int = param(2000, "patches the clusters are fitted on", 10, 10**6, "patch")
    refine_batch: int = param(6, "refinement batch size", 1, 256, "refine")
    accumulation: int = param(4, "refinement gradient accumulation steps", 1, 256, "refine")
    refine_lr: float = param(1e-4, "refinement learning rate (Adam)", 1e-7, 1.0, "refine")
    refine_epochs: int = param(1000, "most refinement epochs (one pass over the training slides)", 1, 10**6, "refine")
    refine_patience: int = param(
        100, "refinement epochs without a better validation loss before stopping", 1, 10**6, "refine"
    )
    val_share: float = param(0.1, "share of unassigned slides put in validation", 0.0, 0.9)
    test_share: float = param(0.1, "share of unassigned slides put in test", 0.0, 0.9)
    workers: int = param(2, "DataLoader worker processes reading slides (0 = in the training process)", 0, 256)
    threads: int = param(0, "torch CPU threads (0 = torch's default)", 0, 1024)
    device: str = param("auto", "cpu, cuda, cuda:N, or auto (cuda when available)")
    amp: bool = param(False, "mixed precision on CUDA")
    init: str = param("", "start from this installed model set (name or directory) instead of from scratch")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training parameter(s): {', '.join(sorted(unknown))}")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            v, lo, hi = getattr(self, f.name), f.metadata["lo"], f.metadata["hi"]
            if lo is not None and not (lo <= v <= hi):
                raise ValueError(f"{f.name} must be between {lo} and {hi}, got {v}")
            if f.metadata["choices"] and v not in f.metadata["choices"]:
                raise ValueError(f"{f.name} must be one of {', '.join(f.metadata['choices'])}, got {v!r}")
        if self.refinement_size % 256:
            raise ValueError(
                f"refinement_size must be a multiple of 256 (8 poolings to a 4 x 4 bottleneck), got {self.refinement_size}"
            )
        if self.val_share + self.test_share >= 1:
            raise ValueError("val_share + test_share must leave slides for training")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ValueError(f"device must be cpu, cuda, cuda:N or auto, got {self.device}")
