"""What both training stages share: the device, mixed precision, atomic checkpoints, early stopping,
the history file and the progress bar. Works on torch 1.13 (Debian) and 2.x, CPU or CUDA."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from contextlib import nullcontext

import torch
from tqdm import tqdm

log = logging.getLogger("h2g_train")


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"--device {name} asked for, but torch sees no CUDA device")
    return device


class Precision:
    """Autocast + gradient scaling on CUDA when asked; plain float32 otherwise."""

    def __init__(self, device: torch.device, amp: bool):
        self.enabled = amp and device.type == "cuda"
        self.device = device
        if self.enabled:
            amp_mod = getattr(torch, "amp", None)
            # torch >= 2.3 has torch.amp.GradScaler("cuda"); 1.13 only torch.cuda.amp.GradScaler.
            self.scaler = amp_mod.GradScaler("cuda") if hasattr(amp_mod, "GradScaler") else torch.cuda.amp.GradScaler()
        else:
            self.scaler = None

    def autocast(self):
        return torch.autocast(device_type="cuda", dtype=torch.float16) if self.enabled else nullcontext()

    def backward(self, loss):
        (self.scaler.scale(loss) if self.scaler else loss).backward()

    def step(self, optimizer):
        if self.scaler:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def save_atomic(obj, path: str) -> None:
    tmp = path + ".partial"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str, device="cpu"):
    # Our own files: full pickles (optimizer state, numpy cluster parameters).
    kwargs = {"weights_only": False} if "weights_only" in torch.load.__code__.co_varnames else {}
    return torch.load(path, map_location=device, **kwargs)


class EarlyStopping:
    def __init__(self, patience: int, best=math.inf, best_epoch=-1, bad_epochs=0):
        self.patience, self.best, self.best_epoch, self.bad_epochs = patience, best, best_epoch, bad_epochs

    def update(self, epoch: int, value: float) -> bool:
        """True when `value` (lower is better) is the best so far."""
        if value < self.best:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}


def append_history(path: str, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def end_epoch(
    stage_dir: str, stage: str, record: dict, stopper: EarlyStopping, net, optimizer, width: float, extra=None
) -> None:
    """Early-stopping bookkeeping, best.pt when the epoch is the best so far, last.pt (what --resume
    reads) and a history line, for either stage."""
    epoch = record["epoch"]
    record["best"] = stopper.update(epoch, record.get("val_loss", record["train_loss"]))
    model = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    if record["best"]:
        save_atomic(
            {"model": model, "epoch": epoch, "metrics": record, "width": width}, os.path.join(stage_dir, "best.pt")
        )
    last = {
        "model": model, "optimizer": optimizer.state_dict(), "epoch": epoch, "stopper": stopper.state(),
        "rng": rng_state(), **(extra or {}),
    }  # fmt: skip
    save_atomic(last, os.path.join(stage_dir, "last.pt"))
    append_history(os.path.join(stage_dir, "history.jsonl"), record)
    shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items() if k != "epoch")
    log.info("%s epoch %d: %s", stage, epoch + 1, shown)


def rng_state() -> dict:
    """torch's global generators (dropout masks draw from them): saved so a resumed run continues the
    very sequence an uninterrupted one would have drawn."""
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_rng(state: dict | None) -> None:
    if not state:
        return
    torch.set_rng_state(state["cpu"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def best_metrics(stage_dir: str) -> dict:
    best = load_checkpoint(os.path.join(stage_dir, "best.pt"))
    return {"best_epoch": best["epoch"] + 1, **{k: v for k, v in best["metrics"].items() if k.startswith("val_")}}


def progress(total: int, desc: str, enabled: bool = True):
    """tqdm on a terminal (loss in the postfix, ETA from tqdm); nothing when stderr is not one, where
    each epoch logs one line instead."""
    return tqdm(
        total=total,
        desc=desc,
        unit="step",
        dynamic_ncols=True,
        leave=False,
        disable=not (enabled and sys.stderr.isatty()),
    )


class Timer:
    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start
