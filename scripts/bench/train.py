#!/usr/bin/env python3
"""`npm run bench:train`: the trainer's throughput and memory, for the full-size networks.

    .venv/bin/python scripts/bench/train.py [--reps 3] [--patches 256] [--steps 4] [--device auto]
                                            [--workers 0,2] [--data DIR]

Measures, each in its own process (so each peak RSS is that phase's alone; worker processes are
counted separately, as the peak of any one child):
  sampler    patches/s of the hierarchical sampler reading 256 px 10x patches on the fly from phantom
             slides (scripts/make_phantom_slides.py, 20x: every patch is resampled), with augmentation,
             through a DataLoader with each --workers count
  precut     the same number of the same patches, pre-cut to PNG files, through a plain PyTorch
             Dataset (PIL decode + the same augmentation) and DataLoader: the usual alternative
  patch      training steps/s of the full MobileNetV2 classifier (batch 64 on CUDA, 16 on a CPU) with
             the cluster-weighted loss, data already in memory
  refine     training steps/s of the full U-Net at 1024 x 1024 (batch 6 on CUDA, 1 on a CPU), Dice loss
Prints a table (median, min-max over --reps) and one JSON line. The phantom slides are made once into
--data (default .cache/bench-train).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "train"), os.path.join(ROOT, "scripts")]


def peak_mib():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(children, 1)


def phase_sampler(a):
    import torch

    from h2g_train.augment import augment_patch
    from h2g_train.dataset import load_dataset
    from h2g_train.sampler import HierarchicalSampler, PatchDataset, index_slide

    ds = load_dataset(os.path.join(a.data, "dataset.json"))
    sampler = HierarchicalSampler([index_slide(e, os.path.join(a.data, "cache")) for e in ds.slides])
    loader = torch.utils.data.DataLoader(
        PatchDataset(sampler, a.patches, 1, a.rep, augment=augment_patch), batch_size=16, num_workers=a.workers
    )
    t = time.perf_counter()
    n = sum(len(y) for _, y, _ in loader)
    return {"patches_per_s": n / (time.perf_counter() - t)}


def precut_dir(a) -> str:
    """The sampler's own draws, saved as PNG once (unaugmented, rounded to 8 bits)."""
    import numpy as np
    from PIL import Image

    from h2g_train.dataset import load_dataset
    from h2g_train.sampler import HierarchicalSampler, PatchDataset, index_slide

    out = os.path.join(a.data, f"precut-{a.patches}")
    if os.path.isdir(out):
        return out
    ds = load_dataset(os.path.join(a.data, "dataset.json"))
    sampler = HierarchicalSampler([index_slide(e, os.path.join(a.data, "cache")) for e in ds.slides])
    reader = PatchDataset(sampler, a.patches, 1, 0)
    os.makedirs(out + ".partial", exist_ok=True)
    for i in range(a.patches):
        x, y, _ = reader[i]
        img = np.rint(x.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(out + ".partial", f"{i:05d}_{y}.png"))
    os.replace(out + ".partial", out)
    return out


def phase_precut(a):
    import numpy as np
    import torch
    from PIL import Image

    from h2g_train.augment import augment_patch

    folder = precut_dir(a)
    files = sorted(os.listdir(folder))

    class PreCut(torch.utils.data.Dataset):
        def __len__(self):
            return len(files)

        def __getitem__(self, i):
            img = np.asarray(Image.open(os.path.join(folder, files[i])).convert("RGB"))
            img = augment_patch(img, np.random.default_rng([a.rep, i]))
            return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255), int(files[i][-5])

    loader = torch.utils.data.DataLoader(PreCut(), batch_size=16, num_workers=a.workers, shuffle=True)
    t = time.perf_counter()
    n = sum(len(y) for _, y in loader)
    return {"patches_per_s": n / (time.perf_counter() - t)}


def _device(a):
    from h2g_train.runtime import select_device

    return select_device(a.device)


def phase_patch(a):
    import torch

    from h2g_train.losses import cluster_weighted_ce
    from h2g_train.networks import PatchClassifier

    dev = _device(a)
    batch = 64 if dev.type == "cuda" else 16
    net = PatchClassifier(1.0).to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, 256, 256, device=dev)
    y = torch.randint(0, 2, (batch,), device=dev)
    q = torch.randint(0, 10, (batch,), device=dev)

    def step():
        loss = cluster_weighted_ce(net(x), y, q, 10)
        loss.backward()
        opt.step()
        opt.zero_grad()

    step()  # warm-up (allocator, cuDNN autotuning)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return {"steps_per_s": a.steps / dt, "patches_per_s": a.steps * batch / dt, "batch": batch, "device": str(dev)}


def phase_refine(a):
    import torch

    from h2g_train.losses import dice_loss
    from h2g_train.networks import RefinementUNet

    dev = _device(a)
    batch = 6 if dev.type == "cuda" else 1
    net = RefinementUNet(1.0).to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    img, heat = torch.rand(batch, 3, 1024, 1024, device=dev), torch.rand(batch, 1, 1024, 1024, device=dev)
    target = (torch.rand(batch, 1024, 1024, device=dev) > 0.7).float()

    def step():
        loss = dice_loss(torch.softmax(net(img, heat), 1)[:, 1], target)
        loss.backward()
        opt.step()
        opt.zero_grad()

    step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    steps = max(1, a.steps // 2)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return {"steps_per_s": steps / dt, "batch": batch, "device": str(dev)}


PHASES = {"sampler": phase_sampler, "precut": phase_precut, "patch": phase_patch, "refine": phase_refine}


def run_phase(a, phase, rep, workers=0):
    cmd = [sys.executable, __file__, "--phase", phase, "--rep", str(rep), "--workers", str(workers), "--patches", str(a.patches),
           "--steps", str(a.steps), "--device", a.device, "--data", a.data]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench:train: {phase} failed:\n{r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--patches", type=int, default=256)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--device", default="auto")
    p.add_argument("--workers", default="0,2")
    p.add_argument("--data", default=os.path.join(ROOT, ".cache", "bench-train"))
    p.add_argument("--phase", choices=list(PHASES))
    p.add_argument("--rep", type=int, default=0)
    a = p.parse_args()
    if a.phase:  # one measurement, in this process
        a.workers = int(a.workers)
        result = PHASES[a.phase](a)
        own, child = peak_mib()
        print(json.dumps({**result, "peak_rss_mib": own, "peak_worker_rss_mib": child}))
        return
    if not os.path.exists(os.path.join(a.data, "dataset.json")):
        from make_phantom_slides import make_dataset

        make_dataset(a.data, slides=4, seed=7, splits=["train"] * 4)
    rows = {}
    for workers in [int(w) for w in a.workers.split(",")]:
        for phase in ("sampler", "precut"):
            rows[f"{phase} workers={workers}"] = [run_phase(a, phase, rep, workers) for rep in range(a.reps)]
    for phase in ("patch", "refine"):
        rows[phase] = [run_phase(a, phase, rep) for rep in range(a.reps)]
    print(f"{'measurement':24} {'figure':>14} {'median':>9} {'min-max':>17} {'peak RSS MiB':>13} {'workers MiB':>12}")
    for name, reps in rows.items():
        key = "patches_per_s" if name.startswith(("sampler", "precut")) else "steps_per_s"
        v = [r[key] for r in reps]
        print(f"{name:24} {key:>14} {statistics.median(v):9.3f} {min(v):8.3f}-{max(v):<8.3f} {max(r['peak_rss_mib'] for r in reps):13.0f} "
              f"{max(r['peak_worker_rss_mib'] for r in reps):12.0f}")  # fmt: skip
    print(json.dumps({k: v for k, v in rows.items()}))


if __name__ == "__main__":
    main()
